//! Reading another task's memory: strings, pointer arrays, `argv` and selected `envp` entries,
//! with `process_vm_readv(2)` through a small page cache.
//!
//! Why `process_vm_readv` and not `pread` on `/proc/PID/mem`: opening `/proc/PID/mem` for each
//! exec (a fresh pid each time, so a fresh proc inode and dentry) was a quarter of the gate's
//! CPU per exec. Both need the same right (ptrace-attach over the task, checked by Yama too),
//! and both read through the same pid, which the caller re-validates afterwards
//! (`SECCOMP_IOCTL_NOTIF_ID_VALID`).
//!
//! **Invariants:** every read is bounded by [`Limits`]; a bound hit is reported as
//! [`ExecNote::Truncated`], never silently; nothing here decides: an unreadable task is an error
//! for the caller (which checks whether the notification is still valid and fails closed).

use std::cell::Cell;
use std::io::{self, IoSliceMut};

use nix::errno::Errno;
use nix::sys::uio::{RemoteIoVec, process_vm_readv};
use nix::unistd::Pid;

use super::ExecNote;

/// Bounds on what is read from a task per exec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Longest path argument read, bytes (Linux `PATH_MAX` = 4096).
    pub max_path_bytes: usize,
    /// Longest single argv or env string kept, bytes (Linux `MAX_ARG_STRLEN` = 128 KiB).
    pub max_arg_bytes: usize,
    /// Most argv entries read.
    pub max_args: usize,
    /// Most argv bytes in total.
    pub max_argv_bytes: usize,
    /// Most envp entries scanned for the wanted names.
    pub max_env: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_path_bytes: 4096,
            max_arg_bytes: 128 * 1024,
            max_args: 8192,
            max_argv_bytes: 1024 * 1024,
            max_env: 8192,
        }
    }
}

/// Why a task's memory could not be read.
#[derive(Debug, thiserror::Error)]
pub enum MemError {
    #[error("reading /proc/{pid}/{what}: {source}")]
    Proc {
        pid: u32,
        what: &'static str,
        source: io::Error,
    },
    #[error("reading the memory of task {pid}: {source}")]
    Read { pid: u32, source: io::Error },
    #[error("address {0:#x} is not mapped in the task")]
    Unmapped(u64),
    #[error("the path argument is a null pointer")]
    NullPath,
}

/// Unit of caching: one (small) page. Reads start on a page boundary so the first page is
/// either read whole or not mapped.
const PAGE: usize = 4096;
/// Pages asked for per read: argv and env strings sit next to each other (the caller's heap or
/// its initial stack), so one read usually brings the next strings too. A read that reaches an
/// unmapped page stops there (a short count), so this never fails a read that one page would
/// not.
const READ_PAGES: usize = 4;
/// Pages read below the wanted one in the same call, as a second remote range: a shell builds
/// argv and envp in heap memory just below the path string that is read first, so this saves
/// a second `process_vm_readv` per exec. The kernel fills ranges in order and stops at the
/// first unreadable page, so these never cost the wanted page.
const BEHIND_PAGES: usize = 2;
/// Most pages cached per exec (256 KiB); when full the cache starts over. An exec's argv and
/// env strings sit in a handful of pages, but not in address order, so a page cache turns ~one
/// read per string into ~one read per few pages.
const MAX_PAGES: usize = 64;

/// Cached pages of one task.
#[derive(Default)]
struct Pages {
    /// Address of each cached page, in load order.
    addrs: Vec<u64>,
    /// Their bytes: `PAGE` bytes per entry of `addrs`, in the same order.
    bytes: Vec<u8>,
}

thread_local! {
    /// The page buffer of this thread's last exec, reused by the next: no allocation and no
    /// fresh heap pages to fault in per exec.
    static SPARE_PAGES: Cell<Pages> = Cell::new(Pages::default());
}

/// A task's memory, read with `process_vm_readv` through a small page cache.
pub(super) struct RemoteMem {
    pid: u32,
    pages: Pages,
    /// `process_vm_readv` calls made (what the tests count).
    #[cfg(test)]
    reads: u32,
}

impl Drop for RemoteMem {
    fn drop(&mut self) {
        // At most `MAX_PAGES` pages (256 KiB) per serving thread.
        self.pages.addrs.clear();
        SPARE_PAGES.set(std::mem::take(&mut self.pages));
    }
}

impl RemoteMem {
    /// The memory of task `pid`. Reading needs ptrace-attach rights over the task: same uid
    /// and, under Yama `ptrace_scope=1`, overwatch must be its ancestor.
    pub fn open(pid: u32) -> Self {
        RemoteMem {
            pid,
            pages: SPARE_PAGES.take(),
            #[cfg(test)]
            reads: 0,
        }
    }

    /// Reads from the page at `page` (page-aligned) into the cache; returns the first page's
    /// index.
    fn load(&mut self, page: u64) -> Result<usize, MemError> {
        let pages = &mut self.pages;
        if pages.addrs.len() + READ_PAGES + BEHIND_PAGES > MAX_PAGES {
            pages.addrs.clear();
        }
        let first = pages.addrs.len();
        let start = first * PAGE;
        let end = start + (READ_PAGES + BEHIND_PAGES) * PAGE;
        if pages.bytes.len() < end {
            pages.bytes.resize(end, 0);
        }
        let base = usize::try_from(page).map_err(|_| MemError::Unmapped(page))?;
        let behind = base.checked_sub(BEHIND_PAGES * PAGE).filter(|b| *b > 0);
        let remote = [
            RemoteIoVec {
                base,
                len: READ_PAGES * PAGE,
            },
            RemoteIoVec {
                base: behind.unwrap_or(0),
                len: BEHIND_PAGES * PAGE,
            },
        ];
        let ranges = if behind.is_some() { 2 } else { 1 };
        let (ahead, below) = pages.bytes[start..end].split_at_mut(READ_PAGES * PAGE);
        let mut local = [IoSliceMut::new(ahead), IoSliceMut::new(below)];
        #[cfg(test)]
        {
            self.reads += 1;
        }
        let read = process_vm_readv(
            Pid::from_raw(self.pid as i32),
            &mut local[..ranges],
            &remote[..ranges],
        );
        let n = match read {
            Ok(n) => n,
            // Nothing readable at `page` (or at all: a task that has exited has no pages).
            Err(Errno::EFAULT) => return Err(MemError::Unmapped(page)),
            Err(errno) => {
                return Err(MemError::Read {
                    pid: self.pid,
                    source: errno.into(),
                });
            }
        };
        if n < PAGE {
            return Err(MemError::Unmapped(page));
        }
        let ahead_pages = n.min(READ_PAGES * PAGE) / PAGE;
        for index in 0..ahead_pages {
            pages.addrs.push(page.wrapping_add((index * PAGE) as u64));
        }
        // The pages below arrive only after all of the pages ahead, in their own range order.
        if let Some(behind) = behind {
            let below_pages = n.saturating_sub(READ_PAGES * PAGE) / PAGE;
            for index in 0..below_pages {
                pages.addrs.push((behind + index * PAGE) as u64);
            }
        }
        Ok(first)
    }

    /// The bytes from `addr` to the end of its page.
    fn bytes_at(&mut self, addr: u64) -> Result<&[u8], MemError> {
        let page = addr & !(PAGE as u64 - 1);
        let index = match self.pages.addrs.iter().position(|p| *p == page) {
            Some(index) => index,
            None => self.load(page)?,
        };
        let offset = index * PAGE + (addr - page) as usize;
        Ok(&self.pages.bytes[offset..(index + 1) * PAGE])
    }

    /// The NUL-terminated string at `addr`, at most `max` bytes: `Ok((bytes, complete))` where
    /// `complete` is false if the string was cut at `max`.
    pub fn read_cstring(&mut self, addr: u64, max: usize) -> Result<(Vec<u8>, bool), MemError> {
        let mut out = Vec::new();
        let mut cursor = addr;
        loop {
            let chunk = self.bytes_at(cursor)?;
            let room = max - out.len();
            if let Some(nul) = memchr::memchr(0, chunk)
                && nul <= room
            {
                out.extend_from_slice(&chunk[..nul]);
                return Ok((out, true));
            }
            if chunk.len() >= room {
                out.extend_from_slice(&chunk[..room]);
                return Ok((out, false));
            }
            out.extend_from_slice(chunk);
            cursor += chunk.len() as u64;
        }
    }

    /// The start of the NUL-terminated string at `addr`: at most `buf.len()` bytes, copied into
    /// `buf` (no allocation: envp holds dozens of strings of which few are wanted).
    pub fn read_prefix<'b>(&mut self, addr: u64, buf: &'b mut [u8]) -> Result<&'b [u8], MemError> {
        let mut filled = 0;
        let mut cursor = addr;
        while filled < buf.len() {
            let chunk = self.bytes_at(cursor)?;
            let take = chunk.len().min(buf.len() - filled);
            let chunk = &chunk[..take];
            if let Some(nul) = memchr::memchr(0, chunk) {
                buf[filled..filled + nul].copy_from_slice(&chunk[..nul]);
                return Ok(&buf[..filled + nul]);
            }
            buf[filled..filled + take].copy_from_slice(chunk);
            filled += take;
            cursor += take as u64;
        }
        Ok(&buf[..filled])
    }

    /// One pointer of `width` bytes (4 or 8, little-endian as on every ABI we filter).
    pub fn read_pointer(&mut self, addr: u64, width: usize) -> Result<u64, MemError> {
        let mut word = [0u8; 8];
        let mut filled = 0;
        // Usually one page; an unaligned pointer may straddle two.
        while filled < width {
            let bytes = self.bytes_at(addr + filled as u64)?;
            let take = bytes.len().min(width - filled);
            word[filled..filled + take].copy_from_slice(&bytes[..take]);
            filled += take;
        }
        Ok(u64::from_le_bytes(word))
    }
}

/// Turns bytes into a `String`, noting lossy conversion.
pub(super) fn text(bytes: Vec<u8>, notes: &mut Vec<ExecNote>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|err| {
        if !notes.contains(&ExecNote::NotUtf8) {
            notes.push(ExecNote::NotUtf8);
        }
        String::from_utf8_lossy(err.as_bytes()).into_owned()
    })
}

fn note_truncated(notes: &mut Vec<ExecNote>) {
    if !notes.contains(&ExecNote::Truncated) {
        notes.push(ExecNote::Truncated);
    }
}

/// Reads a NULL-terminated array of string pointers (`argv`), within the limits.
pub(super) fn read_argv(
    mem: &mut RemoteMem,
    array: u64,
    width: usize,
    limits: &Limits,
    notes: &mut Vec<ExecNote>,
) -> Result<Vec<String>, MemError> {
    let mut argv = Vec::new();
    if array == 0 {
        return Ok(argv); // Linux treats a NULL argv as empty.
    }
    let mut total = 0usize;
    for index in 0.. {
        if index == limits.max_args {
            note_truncated(notes);
            break;
        }
        let ptr = mem.read_pointer(array + (index * width) as u64, width)?;
        if ptr == 0 {
            break;
        }
        let room = limits.max_arg_bytes.min(limits.max_argv_bytes - total);
        let (bytes, complete) = mem.read_cstring(ptr, room)?;
        total += bytes.len();
        argv.push(text(bytes, notes));
        if !complete {
            note_truncated(notes);
            break;
        }
    }
    Ok(argv)
}

/// Scans `envp` for `NAME=value` entries whose name is in `names`, reading only a prefix of the
/// others.
pub(super) fn read_env(
    mem: &mut RemoteMem,
    array: u64,
    width: usize,
    names: &[String],
    limits: &Limits,
    notes: &mut Vec<ExecNote>,
) -> Result<Vec<(String, String)>, MemError> {
    let mut found = Vec::new();
    if array == 0 || names.is_empty() {
        return Ok(found);
    }
    let longest = names.iter().map(String::len).max().unwrap_or(0) + 1;
    let mut prefix_buf = vec![0u8; longest];
    for index in 0.. {
        if index == limits.max_env {
            note_truncated(notes);
            break;
        }
        let ptr = mem.read_pointer(array + (index * width) as u64, width)?;
        if ptr == 0 {
            break;
        }
        let prefix = mem.read_prefix(ptr, &mut prefix_buf)?;
        let Some(eq) = memchr::memchr(b'=', prefix) else {
            continue;
        };
        if !names.iter().any(|n| n.as_bytes() == &prefix[..eq]) {
            continue;
        }
        let (entry, complete) = mem.read_cstring(ptr, limits.max_arg_bytes)?;
        if !complete {
            note_truncated(notes);
        }
        let value = entry[eq + 1..].to_vec();
        let name = String::from_utf8_lossy(&prefix[..eq]).into_owned();
        found.push((name, text(value, notes)));
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use std::ffi::CString;

    use super::*;

    /// Our own memory as a "task": C strings and a NULL-terminated pointer array.
    struct Fixture {
        _strings: Vec<CString>,
        array: Vec<u64>,
    }

    fn fixture(items: &[&[u8]]) -> Fixture {
        let strings: Vec<CString> = items.iter().map(|s| CString::new(*s).unwrap()).collect();
        let mut array: Vec<u64> = strings.iter().map(|s| s.as_ptr() as u64).collect();
        array.push(0);
        Fixture {
            _strings: strings,
            array,
        }
    }

    fn own_mem() -> RemoteMem {
        RemoteMem::open(std::process::id())
    }

    #[test]
    fn reads_argv_from_task_memory() {
        let f = fixture(&[b"git", b"push", b"--force", b"origin main"]);
        let mut notes = vec![];
        let argv = read_argv(
            &mut own_mem(),
            f.array.as_ptr() as u64,
            8,
            &Limits::default(),
            &mut notes,
        )
        .unwrap();
        assert_eq!(argv, ["git", "push", "--force", "origin main"]);
        assert!(notes.is_empty());
    }

    #[test]
    fn reads_a_string_longer_than_one_page() {
        let long = vec![b'a'; PAGE * 3 + 17];
        let f = fixture(&[&long]);
        let (bytes, complete) = own_mem().read_cstring(f.array[0], usize::MAX >> 1).unwrap();
        assert!(complete);
        assert_eq!(bytes, long);
    }

    #[test]
    fn limits_cut_argv_and_say_so() {
        let f = fixture(&[b"a", b"b", b"c", b"d"]);
        let limits = Limits {
            max_args: 2,
            ..Limits::default()
        };
        let mut notes = vec![];
        let argv = read_argv(
            &mut own_mem(),
            f.array.as_ptr() as u64,
            8,
            &limits,
            &mut notes,
        )
        .unwrap();
        assert_eq!(argv, ["a", "b"]);
        assert_eq!(notes, [ExecNote::Truncated]);

        let limits = Limits {
            max_argv_bytes: 5,
            ..Limits::default()
        };
        let f = fixture(&[b"abc", b"defgh"]);
        let mut notes = vec![];
        let argv = read_argv(
            &mut own_mem(),
            f.array.as_ptr() as u64,
            8,
            &limits,
            &mut notes,
        )
        .unwrap();
        assert_eq!(argv, ["abc", "de"]);
        assert_eq!(notes, [ExecNote::Truncated]);
    }

    #[test]
    fn env_keeps_only_wanted_names_and_never_matches_prefixes() {
        let f = fixture(&[
            b"PATH=/usr/bin",
            b"KUBECONFIG_X=nope",
            b"KUBECONFIG=/home/u/.kube/prod",
            b"AWS_PROFILE=prod-admin",
            b"NOEQUALS",
        ]);
        let names = vec!["KUBECONFIG".to_string(), "AWS_PROFILE".to_string()];
        let mut notes = vec![];
        let env = read_env(
            &mut own_mem(),
            f.array.as_ptr() as u64,
            8,
            &names,
            &Limits::default(),
            &mut notes,
        )
        .unwrap();
        assert_eq!(
            env,
            [
                ("KUBECONFIG".to_string(), "/home/u/.kube/prod".to_string()),
                ("AWS_PROFILE".to_string(), "prod-admin".to_string()),
            ]
        );
    }

    #[test]
    fn non_utf8_is_replaced_and_noted() {
        let f = fixture(&[b"caf\xe9"]);
        let mut notes = vec![];
        let argv = read_argv(
            &mut own_mem(),
            f.array.as_ptr() as u64,
            8,
            &Limits::default(),
            &mut notes,
        )
        .unwrap();
        assert_eq!(argv, ["caf\u{fffd}"]);
        assert_eq!(notes, [ExecNote::NotUtf8]);
    }

    #[test]
    fn one_read_brings_the_pages_below_the_first_string_too() {
        // A shell's argv and envp strings sit in heap pages just below the path it execs.
        let mut buf = vec![0u8; 6 * PAGE];
        let base = (buf.as_ptr() as usize).next_multiple_of(PAGE) - buf.as_ptr() as usize;
        let below = base + PAGE + 100;
        let path = base + 2 * PAGE + 8;
        buf[below..below + 4].copy_from_slice(b"git\0");
        buf[path..path + 13].copy_from_slice(b"/usr/bin/git\0");
        let mut mem = own_mem();
        let at = |offset: usize| buf.as_ptr() as u64 + offset as u64;
        let (first, _) = mem.read_cstring(at(path), 4096).unwrap();
        let (second, _) = mem.read_cstring(at(below), 4096).unwrap();
        assert_eq!(
            (first.as_slice(), second.as_slice()),
            (&b"/usr/bin/git"[..], &b"git"[..])
        );
        assert_eq!(mem.reads, 1, "the page below came with the first read");
        let mut prefix = [0u8; 5];
        assert_eq!(mem.read_prefix(at(path), &mut prefix).unwrap(), b"/usr/");
        assert_eq!(mem.read_prefix(at(below), &mut prefix).unwrap(), b"git");
    }

    #[test]
    fn unmapped_memory_is_an_error_not_an_empty_argv() {
        let mut notes = vec![];
        let err = read_argv(&mut own_mem(), 8, 8, &Limits::default(), &mut notes).unwrap_err();
        assert!(matches!(err, MemError::Unmapped(0)), "{err}");
    }

    /// The top of our initial stack: the file name the kernel exec'd (`AT_EXECFN`, from
    /// `/proc/self/auxv`), the last string before the end of the `[stack]` mapping.
    fn exec_fn_address() -> u64 {
        const AT_EXECFN: u64 = 31;
        let auxv = std::fs::read("/proc/self/auxv").unwrap();
        let words: Vec<u64> = auxv
            .chunks_exact(8)
            .map(|w| u64::from_ne_bytes(w.try_into().unwrap()))
            .collect();
        words
            .chunks_exact(2)
            .find(|pair| pair[0] == AT_EXECFN)
            .map(|pair| pair[1])
            .unwrap()
    }

    #[test]
    fn a_string_on_the_last_mapped_page_is_read_though_the_pages_after_it_are_not() {
        let addr = exec_fn_address();
        let stack_end = std::fs::read_to_string("/proc/self/maps")
            .unwrap()
            .lines()
            .find(|line| line.ends_with("[stack]"))
            .and_then(|line| line.split(['-', ' ']).nth(1).map(str::to_string))
            .map(|end| u64::from_str_radix(&end, 16).unwrap())
            .unwrap();
        assert!(
            stack_end - addr < (READ_PAGES * PAGE) as u64,
            "a read of {READ_PAGES} pages from here runs past the stack"
        );
        let (bytes, complete) = own_mem().read_cstring(addr, 4096).unwrap();
        assert!(complete);
        let exe = std::env::current_exe().unwrap();
        let name = exe.file_name().unwrap().to_str().unwrap();
        assert!(String::from_utf8(bytes).unwrap().ends_with(name));
    }

    #[test]
    fn a_pointer_straddling_two_pages_is_assembled() {
        let buf = vec![0u8; PAGE * 2];
        let base = buf.as_ptr() as u64;
        let page_end = (base & !(PAGE as u64 - 1)) + PAGE as u64;
        let at = page_end - 3;
        let offset = (at - base) as usize;
        let mut buf = buf;
        buf[offset..offset + 8].copy_from_slice(&0x1122_3344_5566_7788u64.to_le_bytes());
        assert_eq!(
            own_mem().read_pointer(at, 8).unwrap(),
            0x1122_3344_5566_7788
        );
    }

    #[test]
    fn thirty_two_bit_pointer_arrays_are_decoded() {
        // Place a 4-byte pointer array pointing at strings we can address in 32 bits: not
        // possible for our heap, so check the pointer decoding alone.
        let words: [u32; 3] = [0x1234_5678, 0x9abc_def0, 0];
        let mut mem = own_mem();
        let base = words.as_ptr() as u64;
        assert_eq!(mem.read_pointer(base, 4).unwrap(), 0x1234_5678);
        assert_eq!(mem.read_pointer(base + 4, 4).unwrap(), 0x9abc_def0);
        assert_eq!(mem.read_pointer(base + 8, 4).unwrap(), 0);
    }
}
