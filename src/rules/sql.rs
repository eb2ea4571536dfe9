//! SQL text → statement kinds (DROP, TRUNCATE, DELETE without WHERE, ALTER, …).
//!
//! Parsed with sqlparser (dialect chosen from the client). When the text does not parse (psql
//! meta-commands, vendor syntax, partial input) a keyword scan over the text with string literals
//! and comments removed takes over, and it errs towards the dangerous kinds: `DELETE FROM t` with
//! no `WHERE` anywhere is `DeleteNoWhere`. Data inside string literals never counts
//! (`select 'DROP TABLE'` is a read).

use sqlparser::ast::Statement;
use sqlparser::dialect::{Dialect, GenericDialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;

use super::pack::SqlKind;

/// Which client the text is for (picks the sqlparser dialect).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Postgres,
    MySql,
    Sqlite,
    Generic,
}

impl Flavor {
    /// The flavor for a client program name (`psql` → Postgres, `mysql`/`mariadb` → MySQL …).
    pub fn for_program(program: &str) -> Flavor {
        match program {
            "psql" | "pgcli" | "cockroach" | "ysqlsh" => Flavor::Postgres,
            "mysql" | "mariadb" | "mycli" => Flavor::MySql,
            "sqlite3" | "sqlite" | "litecli" => Flavor::Sqlite,
            _ => Flavor::Generic,
        }
    }
}

/// The kinds of the statements in `text`, plus whether the keyword fallback was used.
pub fn classify(text: &str, flavor: Flavor) -> (Vec<SqlKind>, bool) {
    let dialect: Box<dyn Dialect> = match flavor {
        Flavor::Postgres => Box::new(PostgreSqlDialect {}),
        Flavor::MySql => Box::new(MySqlDialect {}),
        Flavor::Sqlite => Box::new(SQLiteDialect {}),
        Flavor::Generic => Box::new(GenericDialect {}),
    };
    // psql meta-commands (`\dt`, `\i file`) are not SQL: strip whole lines starting with `\`.
    let cleaned: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('\\'))
        .collect::<Vec<_>>()
        .join("\n");
    match Parser::parse_sql(dialect.as_ref(), &cleaned) {
        Ok(stmts) => (stmts.iter().map(kind_of).collect(), false),
        Err(_) => (keyword_scan(text), true),
    }
}

fn kind_of(stmt: &Statement) -> SqlKind {
    match stmt {
        Statement::Query(_) => SqlKind::Read,
        Statement::Delete(d) => {
            if d.selection.is_none() {
                SqlKind::DeleteNoWhere
            } else {
                SqlKind::Delete
            }
        }
        Statement::Update(u) => {
            if u.selection.is_none() {
                SqlKind::UpdateNoWhere
            } else {
                SqlKind::Update
            }
        }
        Statement::Truncate(_) => SqlKind::Truncate,
        Statement::Insert(_) => SqlKind::Write,
        _ => {
            let text = stmt.to_string();
            let first = text
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_uppercase();
            match first.as_str() {
                "DROP" => SqlKind::Drop,
                "TRUNCATE" => SqlKind::Truncate,
                "ALTER" | "RENAME" => SqlKind::Alter,
                "GRANT" | "REVOKE" => SqlKind::Grant,
                "INSERT" | "MERGE" | "COPY" | "CREATE" | "REPLACE" | "UPSERT" | "LOAD" => {
                    SqlKind::Write
                }
                "SELECT" | "SHOW" | "EXPLAIN" | "DESCRIBE" | "DESC" | "WITH" | "VALUES" | "SET"
                | "USE" | "BEGIN" | "START" | "COMMIT" | "ROLLBACK" | "PRAGMA" => SqlKind::Read,
                _ => SqlKind::Other,
            }
        }
    }
}

/// Upper-cased words of `text` with string literals, quoted identifiers and comments removed.
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = text.chars().peekable();
    let flush = |cur: &mut String, out: &mut Vec<String>| {
        if !cur.is_empty() {
            out.push(cur.to_ascii_uppercase());
            cur.clear();
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' | '`' => {
                flush(&mut cur, &mut out);
                while let Some(n) = chars.next() {
                    if n == c {
                        if chars.peek() == Some(&c) {
                            chars.next();
                            continue;
                        }
                        break;
                    }
                    if n == '\\' && c == '\'' {
                        chars.next();
                    }
                }
            }
            '-' if chars.peek() == Some(&'-') => {
                flush(&mut cur, &mut out);
                for n in chars.by_ref() {
                    if n == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                flush(&mut cur, &mut out);
                chars.next();
                let mut prev = ' ';
                for n in chars.by_ref() {
                    if prev == '*' && n == '/' {
                        break;
                    }
                    prev = n;
                }
            }
            ';' => {
                flush(&mut cur, &mut out);
                out.push(";".into());
            }
            c if c.is_alphanumeric() || c == '_' => cur.push(c),
            _ => flush(&mut cur, &mut out),
        }
    }
    flush(&mut cur, &mut out);
    out
}

/// Fallback classification by keywords, statement by statement.
pub fn keyword_scan(text: &str) -> Vec<SqlKind> {
    let w = words(text);
    let mut kinds = Vec::new();
    for stmt in w.split(|x| x == ";") {
        let Some(first) = stmt.first() else { continue };
        let has = |k: &str| stmt.iter().any(|x| x == k);
        let kind = match first.as_str() {
            "DROP" => SqlKind::Drop,
            "TRUNCATE" => SqlKind::Truncate,
            "DELETE" if has("WHERE") => SqlKind::Delete,
            "DELETE" => SqlKind::DeleteNoWhere,
            "UPDATE" if has("WHERE") => SqlKind::Update,
            "UPDATE" => SqlKind::UpdateNoWhere,
            "ALTER" | "RENAME" => SqlKind::Alter,
            "GRANT" | "REVOKE" => SqlKind::Grant,
            "INSERT" | "CREATE" | "COPY" | "MERGE" | "REPLACE" => SqlKind::Write,
            "SELECT" | "SHOW" | "EXPLAIN" | "DESCRIBE" | "WITH" => {
                // A CTE can still delete: `WITH x AS (…) DELETE FROM t`.
                if has("DELETE") || has("DROP") || has("TRUNCATE") || has("UPDATE") {
                    SqlKind::Other
                } else {
                    SqlKind::Read
                }
            }
            _ if has("DROP") => SqlKind::Drop,
            _ if has("TRUNCATE") => SqlKind::Truncate,
            _ => SqlKind::Other,
        };
        kinds.push(kind);
    }
    kinds
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<SqlKind> {
        classify(s, Flavor::Postgres).0
    }

    #[test]
    fn statement_kinds() {
        assert_eq!(kinds("DROP DATABASE app;"), vec![SqlKind::Drop]);
        assert_eq!(kinds("TRUNCATE orders"), vec![SqlKind::Truncate]);
        assert_eq!(kinds("delete from users"), vec![SqlKind::DeleteNoWhere]);
        assert_eq!(
            kinds("DELETE FROM users WHERE id = 1"),
            vec![SqlKind::Delete]
        );
        assert_eq!(
            kinds("update users set admin = true"),
            vec![SqlKind::UpdateNoWhere]
        );
        assert_eq!(
            kinds("ALTER TABLE users DROP COLUMN email"),
            vec![SqlKind::Alter]
        );
        assert_eq!(kinds("SELECT count(*) FROM users"), vec![SqlKind::Read]);
        assert_eq!(kinds("select 'DROP TABLE' as word"), vec![SqlKind::Read]);
    }

    #[test]
    fn unparseable_text_falls_back_to_keywords() {
        let (k, fallback) = classify("DROP TABLE IF EXISTS x CASCADE PLEASE", Flavor::Postgres);
        assert!(fallback);
        assert_eq!(k, vec![SqlKind::Drop]);
        assert_eq!(
            keyword_scan("delete from t -- where id=1"),
            vec![SqlKind::DeleteNoWhere]
        );
        assert_eq!(
            keyword_scan("select 'drop table x' frm"),
            vec![SqlKind::Read]
        );
        assert_eq!(
            classify("\\dt\nTRUNCATE t;", Flavor::Postgres).0,
            vec![SqlKind::Truncate]
        );
    }
}
