/* The floor under benches/exec_gate.rs: what any seccomp user-notification supervisor costs per
 * exec on this machine, with nothing read and nothing decided. The child installs the same kind
 * of filter (USER_NOTIF on execve/execveat, allow the rest); the parent takes the listener with
 * pidfd_getfd and answers every notification with CONTINUE at once (poll + recv + send), with
 * SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP like overwatch. Prints µs per exec of
 * `for i in $(seq N); do /bin/true; done` without and with the filter, (T(N) - T(0)) / N.
 *
 * Run: benches/exec-gate-floor.sh (compiles this with cc and runs it interleaved). Linux ≥ 5.6
 * on x86_64. Only a reference measure: overwatch's own code is measured by the Rust bench. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP 1
#endif
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

/* CPU time of this process (the supervisor; children are not counted), seconds. */
static double cpu(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

static void loop_script(char *buf, size_t len, int n) {
    snprintf(buf, len, "for i in $(seq %d); do /bin/true; done", n);
}

static double run_plain(int n) {
    char script[128];
    loop_script(script, sizeof script, n);
    double start = now();
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/bash", "bash", "-c", script, (char *)NULL);
        _exit(127);
    }
    waitpid(pid, NULL, 0);
    return now() - start;
}

static int install_filter(void) {
    struct sock_filter prog[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xC000003E /* AUDIT_ARCH_X86_64 */, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_execve, 1, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_execveat, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog fprog = {.len = sizeof prog / sizeof prog[0], .filter = prog};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1;
    return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &fprog);
}

static double run_gated(int n) {
    char script[128];
    loop_script(script, sizeof script, n);
    int ready[2], go[2];
    if (pipe(ready) || pipe(go)) exit(1);
    double start = now();
    pid_t pid = fork();
    if (pid == 0) {
        int fd = install_filter();
        if (fd < 0) _exit(126);
        if (write(ready[1], &fd, sizeof fd) != sizeof fd) _exit(126);
        char ack;
        if (read(go[0], &ack, 1) != 1) _exit(126);
        close(fd);
        execl("/bin/bash", "bash", "-c", script, (char *)NULL);
        _exit(127);
    }
    int child_fd;
    if (read(ready[0], &child_fd, sizeof child_fd) != sizeof child_fd) exit(1);
    int pidfd = syscall(SYS_pidfd_open, pid, 0);
    int listener = syscall(SYS_pidfd_getfd, pidfd, child_fd, 0);
    if (pidfd < 0 || listener < 0) {
        perror("pidfd_getfd");
        exit(1);
    }
    ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
    if (write(go[1], "x", 1) != 1) exit(1);
    for (;;) {
        struct pollfd p = {.fd = listener, .events = POLLIN};
        if (poll(&p, 1, -1) < 0 && errno != EINTR) break;
        if (p.revents & POLLIN) {
            struct seccomp_notif req;
            memset(&req, 0, sizeof req);
            if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) != 0) continue;
            struct seccomp_notif_resp resp = {
                .id = req.id, .flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE};
            ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
        } else if (p.revents & (POLLHUP | POLLERR)) {
            break;
        }
    }
    waitpid(pid, NULL, 0);
    double wall = now() - start;
    close(listener);
    close(pidfd);
    close(ready[0]); close(ready[1]); close(go[0]); close(go[1]);
    return wall;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 1000;
    int rounds = argc > 2 ? atoi(argv[2]) : 9;
    double plain[64], gated[64], added[64], cpus[64];
    if (rounds > 64) rounds = 64;
    for (int r = 0; r < rounds; r++) {
        plain[r] = (run_plain(n) - run_plain(0)) * 1e6 / n;
        double c0 = cpu();
        double empty = run_gated(0);
        double c1 = cpu();
        double full = run_gated(n);
        double c2 = cpu();
        gated[r] = (full - empty) * 1e6 / n;
        cpus[r] = ((c2 - c1) - (c1 - c0)) * 1e6 / n;
        added[r] = gated[r] - plain[r];
    }
    qsort(plain, rounds, sizeof(double), cmp);
    qsort(gated, rounds, sizeof(double), cmp);
    qsort(added, rounds, sizeof(double), cmp);
    qsort(cpus, rounds, sizeof(double), cmp);
    printf("bare supervisor floor: /bin/true x %d, %d rounds (µs per exec, medians): "
           "without %.1f, with %.1f (%+.1f); supervisor CPU %.1f\n",
           n, rounds, plain[rounds / 2], gated[rounds / 2], added[rounds / 2], cpus[rounds / 2]);
    return 0;
}
