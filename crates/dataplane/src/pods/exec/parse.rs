//! What a command line asks for, decided without I/O: the image's tools, each tool's flags
//! (curl 8, BusyBox 1.37 applets, netshoot's OpenBSD netcat and dig) and `sh -c` lists.

use std::time::Duration;

/// The family a client is pinned to (`curl -4`/`-6`, `nc -4`/`-6`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// `-4`
    V4,
    /// `-6`
    V6,
}

/// Which tools an image ships, found by its repository name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Toolbox {
    /// `curlimages/curl`: Alpine (BusyBox applets) with curl.
    Curl,
    /// `busybox`, `alpine`: BusyBox applets, no curl.
    Busybox,
    /// `nicolaka/netshoot`: curl, OpenBSD netcat, bind's nslookup and dig, BusyBox wget.
    Netshoot,
    /// Any other image: a shell and coreutils, no network tools.
    Other,
}

/// The image's repository without registry, `library/`, tag or digest: `curlimages/curl`.
pub fn repository(image: &str) -> &str {
    let image = image.split('@').next().unwrap_or(image);
    // A tag follows the last colon after the last slash.
    let last_slash = image.rfind('/').map_or(0, |i| i + 1);
    let image = match image[last_slash..].find(':') {
        Some(i) => &image[..last_slash + i],
        None => image,
    };
    let image = match image.split_once('/') {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            rest
        }
        _ => image,
    };
    image.strip_prefix("library/").unwrap_or(image)
}

impl Toolbox {
    /// The toolbox of `image`.
    pub fn of(image: &str) -> Toolbox {
        match repository(image) {
            "curlimages/curl" => Toolbox::Curl,
            "busybox" | "alpine" => Toolbox::Busybox,
            "nicolaka/netshoot" => Toolbox::Netshoot,
            _ => Toolbox::Other,
        }
    }

    /// Whether the image's container runs a command of its own when it has one (a client
    /// image); other images are servers.
    pub fn is_client(self) -> bool {
        self != Toolbox::Other
    }

    /// Whether `tool` is on the image's `$PATH`.
    pub fn has(self, tool: &str) -> bool {
        const BASE: &[&str] = &[
            "sh", "echo", "cat", "hostname", "sleep", "true", "false", "env", "printf",
        ];
        const BUSYBOX: &[&str] = &["wget", "nc", "nslookup", "ash"];
        if BASE.contains(&tool) {
            return true;
        }
        match self {
            Toolbox::Curl => tool == "curl" || BUSYBOX.contains(&tool),
            Toolbox::Busybox => BUSYBOX.contains(&tool),
            Toolbox::Netshoot => matches!(tool, "curl" | "dig" | "bash") || BUSYBOX.contains(&tool),
            Toolbox::Other => false,
        }
    }
}

/// One command and its parsed arguments.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// `curl`
    Curl(Curl),
    /// `wget`
    Wget(Wget),
    /// `nc`
    Nc(Nc),
    /// `nslookup NAME [SERVER]`
    Nslookup {
        /// The name to look up.
        name: String,
    },
    /// `dig [+short] NAME [A|AAAA]`
    Dig {
        /// The name to look up.
        name: String,
        /// `+short`
        short: bool,
        /// `AAAA` asked.
        aaaa: bool,
    },
    /// `echo [-n] ARGS...`
    Echo {
        /// The text.
        text: String,
        /// Without `-n`.
        newline: bool,
    },
    /// `cat` (of stdin; files are not there)
    Cat {
        /// Files named (`cat: can't open 'f': No such file or directory`).
        files: Vec<String>,
    },
    /// `hostname`
    Hostname,
    /// `env`
    Env,
    /// `sleep N` (`infinity` too)
    Sleep(Duration),
    /// `sh -c SCRIPT`, or `sh` reading its script from stdin ([`parse_script`] reads it, with
    /// the container's environment).
    Sh(Option<String>),
    /// `exit N`, `true` (0), `false` (1).
    Exit(i32),
    /// A tool refused its arguments: this text on stderr, this exit code.
    Usage {
        /// What it prints on stderr.
        stderr: String,
        /// Its exit code.
        code: i32,
    },
    /// Not on `$PATH`.
    NotFound(String),
}

/// `curl` as its common flags ask.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Curl {
    /// The URL.
    pub url: String,
    /// `-s`
    pub silent: bool,
    /// `-S`
    pub show_error: bool,
    /// `-v`
    pub verbose: bool,
    /// `-4`/`-6`
    pub family: Option<Family>,
    /// `-o FILE`
    pub output: Option<String>,
    /// `-w FORMAT`
    pub write_out: Option<String>,
    /// `-I`
    pub head: bool,
    /// `-i`
    pub include: bool,
    /// `-f`
    pub fail: bool,
    /// `-H`
    pub headers: Vec<String>,
    /// `-X`
    pub method: Option<String>,
    /// `-d`
    pub data: Option<String>,
    /// `-m`/`--max-time`
    pub max_time: Option<Duration>,
    /// `--connect-timeout`
    pub connect_timeout: Option<Duration>,
}

/// BusyBox `wget`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Wget {
    /// The URL.
    pub url: String,
    /// `-q`
    pub quiet: bool,
    /// `-O FILE` (`-` for stdout).
    pub output: Option<String>,
    /// `-T SEC`
    pub timeout: Option<Duration>,
    /// `--spider`
    pub spider: bool,
    /// `-S`
    pub server_response: bool,
}

/// `nc` (BusyBox's, or OpenBSD's in netshoot).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Nc {
    /// The host.
    pub host: String,
    /// The port.
    pub port: u16,
    /// `-z`
    pub zero: bool,
    /// `-v`
    pub verbose: bool,
    /// `-w SEC`
    pub timeout: Option<Duration>,
    /// `-4`/`-6`
    pub family: Option<Family>,
    /// OpenBSD netcat's messages (netshoot) instead of BusyBox's.
    pub openbsd: bool,
}

/// How a list item follows the one before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sep {
    /// `;` or a newline (or the first item).
    Seq,
    /// `&&`
    And,
    /// `||`
    Or,
}

/// A shell list: simple commands joined by `;`, `&&`, `||`; `while true; do ...; done` loops.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// A simple command's words, and whether its output goes to `/dev/null` (`>/dev/null`,
    /// `2>/dev/null` sets the second).
    Simple {
        /// The words.
        argv: Vec<String>,
        /// `>/dev/null`
        quiet_out: bool,
        /// `2>/dev/null`
        quiet_err: bool,
    },
    /// `while true; do LIST; done` (also `while :`).
    Forever(Script),
}

/// A parsed shell script.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Script(pub Vec<(Sep, Item)>);

/// A shell syntax error, as BusyBox ash prints it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("sh: syntax error: {0}")]
pub struct SyntaxError(pub String);

/// Splits shell words: quotes, backslashes, `$VAR` from `env`, operators as their own tokens.
fn tokenize(s: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Vec<Tok>, SyntaxError> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => cur.push(c),
                        None => return Err(SyntaxError("unterminated quoted string".into())),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => cur.push(c),
                            Some(c) => {
                                cur.push('\\');
                                cur.push(c);
                            }
                            None => return Err(SyntaxError("unterminated quoted string".into())),
                        },
                        Some('$') => expand(&mut chars, &mut cur, env),
                        Some(c) => cur.push(c),
                        None => return Err(SyntaxError("unterminated quoted string".into())),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some('\n') | None => {}
                    Some(c) => cur.push(c),
                }
            }
            '$' => {
                in_word = true;
                expand(&mut chars, &mut cur, env);
            }
            ' ' | '\t' => flush(&mut out, &mut cur, &mut in_word),
            '\n' | ';' => {
                flush(&mut out, &mut cur, &mut in_word);
                out.push(Tok::Op(Sep::Seq));
            }
            '&' if chars.peek() == Some(&'&') => {
                chars.next();
                flush(&mut out, &mut cur, &mut in_word);
                out.push(Tok::Op(Sep::And));
            }
            '|' if chars.peek() == Some(&'|') => {
                chars.next();
                flush(&mut out, &mut cur, &mut in_word);
                out.push(Tok::Op(Sep::Or));
            }
            '|' | '&' | '(' | ')' | '<' | '`' => {
                return Err(SyntaxError(format!("unexpected \"{c}\"")));
            }
            '#' if !in_word => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push(Tok::Op(Sep::Seq));
                        break;
                    }
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    flush(&mut out, &mut cur, &mut in_word);
    Ok(out)
}

fn expand(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    cur: &mut String,
    env: &dyn Fn(&str) -> Option<String>,
) {
    let mut name = String::new();
    let braced = chars.peek() == Some(&'{');
    if braced {
        chars.next();
    }
    while let Some(&c) = chars.peek() {
        if braced && c == '}' {
            chars.next();
            break;
        }
        if c.is_ascii_alphanumeric() || c == '_' || (name.is_empty() && c == '?') {
            name.push(c);
            chars.next();
        } else {
            break;
        }
    }
    if name.is_empty() && !braced {
        cur.push('$');
        return;
    }
    cur.push_str(&env(&name).unwrap_or_default());
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Op(Sep),
}

fn flush(out: &mut Vec<Tok>, cur: &mut String, in_word: &mut bool) {
    if *in_word {
        out.push(Tok::Word(std::mem::take(cur)));
        *in_word = false;
    }
}

/// Parses a `sh -c` script (`env` gives `$VAR`s).
pub fn parse_script(s: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Script, SyntaxError> {
    let toks = tokenize(s, env)?;
    let mut pos = 0;
    let script = parse_list(&toks, &mut pos, &[])?;
    if pos < toks.len() {
        return Err(SyntaxError("unexpected token".into()));
    }
    Ok(script)
}

fn word_at(toks: &[Tok], pos: usize) -> Option<&str> {
    match toks.get(pos) {
        Some(Tok::Word(w)) => Some(w),
        _ => None,
    }
}

fn parse_list(toks: &[Tok], pos: &mut usize, stop: &[&str]) -> Result<Script, SyntaxError> {
    let mut items = Vec::new();
    let mut sep = Sep::Seq;
    loop {
        // Separators before a command (empty lines, `;;`) are skipped.
        while let Some(Tok::Op(Sep::Seq)) = toks.get(*pos) {
            *pos += 1;
        }
        let Some(tok) = toks.get(*pos) else { break };
        if let Tok::Word(w) = tok {
            if stop.contains(&w.as_str()) {
                break;
            }
        }
        if let Tok::Op(op) = tok {
            let s = if *op == Sep::And { "&&" } else { "||" };
            return Err(SyntaxError(format!("unexpected \"{s}\"")));
        }
        if word_at(toks, *pos) == Some("while") {
            *pos += 1;
            let cond = word_at(toks, *pos);
            if !matches!(cond, Some("true") | Some(":")) {
                return Err(SyntaxError("only `while true` loops are supported".into()));
            }
            *pos += 1;
            while let Some(Tok::Op(Sep::Seq)) = toks.get(*pos) {
                *pos += 1;
            }
            if word_at(toks, *pos) != Some("do") {
                return Err(SyntaxError(
                    "unexpected end of file (expecting \"do\")".into(),
                ));
            }
            *pos += 1;
            let body = parse_list(toks, pos, &["done"])?;
            if word_at(toks, *pos) != Some("done") {
                return Err(SyntaxError(
                    "unexpected end of file (expecting \"done\")".into(),
                ));
            }
            *pos += 1;
            items.push((sep, Item::Forever(body)));
        } else {
            let mut argv = Vec::new();
            let (mut quiet_out, mut quiet_err) = (false, false);
            while let Some(Tok::Word(w)) = toks.get(*pos) {
                if argv.is_empty() && stop.contains(&w.as_str()) {
                    break;
                }
                *pos += 1;
                match w.as_str() {
                    ">/dev/null" | "1>/dev/null" => quiet_out = true,
                    "2>/dev/null" => quiet_err = true,
                    "&>/dev/null" => {
                        quiet_out = true;
                        quiet_err = true;
                    }
                    "2>&1" => {}
                    ">" | "1>" | "2>" if word_at(toks, *pos) == Some("/dev/null") => {
                        *pos += 1;
                        if w == "2>" {
                            quiet_err = true;
                        } else {
                            quiet_out = true;
                        }
                    }
                    _ => argv.push(w.clone()),
                }
            }
            items.push((
                sep,
                Item::Simple {
                    argv,
                    quiet_out,
                    quiet_err,
                },
            ));
        }
        match toks.get(*pos) {
            Some(Tok::Op(op)) => {
                sep = *op;
                *pos += 1;
                if *op != Sep::Seq && toks.get(*pos).is_none() {
                    return Err(SyntaxError("unexpected end of file".into()));
                }
            }
            _ => sep = Sep::Seq,
        }
    }
    Ok(Script(items))
}

fn secs(s: &str) -> Option<Duration> {
    let v: f64 = s.parse().ok()?;
    (v.is_finite() && v >= 0.0).then(|| Duration::from_secs_f64(v.min(1e9)))
}

const CURL_TRY: &str = "curl: try 'curl --help' or 'curl --manual' for more information\n";

/// Parses `argv` (the command and its arguments) as the image's `$PATH` would find it.
pub fn parse(toolbox: Toolbox, argv: &[String]) -> Command {
    let Some(prog) = argv.first() else {
        return Command::Exit(0);
    };
    let name = prog.rsplit('/').next().unwrap_or(prog);
    let args = &argv[1..];
    if !toolbox.has(name) && !matches!(name, "exit") {
        return Command::NotFound(prog.clone());
    }
    match name {
        "curl" => parse_curl(args),
        "wget" => parse_wget(args),
        "nc" => parse_nc(args, toolbox == Toolbox::Netshoot),
        "nslookup" => match args.iter().find(|a| !a.starts_with('-')) {
            Some(n) => Command::Nslookup { name: n.clone() },
            None => Command::Usage {
                stderr: "BusyBox v1.37.0 (2024-09-26 21:31:42 UTC) multi-call binary.\n\nUsage: nslookup [-type=QUERY_TYPE] [-debug] HOST [DNS_SERVER]\n".into(),
                code: 1,
            },
        },
        "dig" => {
            let short = args.iter().any(|a| a == "+short");
            let aaaa = args.iter().any(|a| a.eq_ignore_ascii_case("aaaa"));
            let name = args
                .iter()
                .find(|a| {
                    !a.starts_with('+')
                        && !a.starts_with('@')
                        && !a.starts_with('-')
                        && !a.eq_ignore_ascii_case("a")
                        && !a.eq_ignore_ascii_case("aaaa")
                })
                .cloned()
                .unwrap_or_else(|| ".".into());
            Command::Dig { name, short, aaaa }
        }
        "echo" => {
            let newline = args.first().is_none_or(|a| a != "-n");
            let words = if newline { args } else { &args[1..] };
            Command::Echo {
                text: words.join(" "),
                newline,
            }
        }
        "printf" => Command::Echo {
            text: args
                .first()
                .map(|f| f.replace("\\n", "\n"))
                .unwrap_or_default(),
            newline: false,
        },
        "cat" => Command::Cat {
            files: args.iter().filter(|a| *a != "-").cloned().collect(),
        },
        "hostname" => Command::Hostname,
        "env" => Command::Env,
        "true" => Command::Exit(0),
        "false" => Command::Exit(1),
        "exit" => Command::Exit(
            args.first()
                .and_then(|a| a.parse::<i64>().ok())
                .map_or(0, |n| (n & 0xff) as i32),
        ),
        "sleep" => match args.first().map(String::as_str) {
            Some("infinity") => Command::Sleep(Duration::from_secs(u32::MAX as u64)),
            Some(a) => match secs(a.trim_end_matches('s')) {
                Some(d) => Command::Sleep(d),
                None => Command::Usage {
                    stderr: format!("sleep: invalid number '{a}'\n"),
                    code: 1,
                },
            },
            None => Command::Usage {
                stderr: "BusyBox v1.37.0 (2024-09-26 21:31:42 UTC) multi-call binary.\n\nUsage: sleep [N]...\n".into(),
                code: 1,
            },
        },
        "sh" | "ash" | "bash" => {
            let mut i = 0;
            let mut script = None;
            while i < args.len() {
                let a = &args[i];
                if a == "-c" || (a.starts_with('-') && a.contains('c')) {
                    match args.get(i + 1) {
                        Some(s) => script = Some(s.clone()),
                        None => {
                            return Command::Usage {
                                stderr: format!("{name}: -c requires an argument\n"),
                                code: 2,
                            }
                        }
                    }
                    break;
                }
                if !a.starts_with('-') {
                    return Command::Usage {
                        stderr: format!("{name}: can't open '{a}': No such file or directory\n"),
                        code: 2,
                    };
                }
                i += 1;
            }
            Command::Sh(script)
        }
        _ => Command::NotFound(prog.clone()),
    }
}

fn parse_curl(args: &[String]) -> Command {
    let mut c = Curl::default();
    let mut urls: Vec<String> = Vec::new();
    let mut i = 0;
    let unknown = |opt: &str| Command::Usage {
        stderr: format!("curl: option {opt}: is unknown\n{CURL_TRY}"),
        code: 2,
    };
    let needs = |opt: &str| Command::Usage {
        stderr: format!("curl: option {opt}: requires parameter\n{CURL_TRY}"),
        code: 2,
    };
    let bad_time = |opt: &str| Command::Usage {
        stderr: format!("curl: option {opt}: expected a proper numerical parameter\n{CURL_TRY}"),
        code: 2,
    };
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if let Some(long) = a.strip_prefix("--") {
            let (long, inline) = match long.split_once('=') {
                Some((l, v)) => (l, Some(v.to_string())),
                None => (long, None),
            };
            let takes = matches!(
                long,
                "output"
                    | "write-out"
                    | "header"
                    | "max-time"
                    | "connect-timeout"
                    | "request"
                    | "data"
                    | "data-raw"
                    | "user-agent"
            );
            let val = if takes {
                match inline.or_else(|| {
                    let v = args.get(i).cloned();
                    i += 1;
                    v
                }) {
                    Some(v) => Some(v),
                    None => return needs(a),
                }
            } else {
                None
            };
            match (long, val) {
                ("silent", _) => c.silent = true,
                ("show-error", _) => c.show_error = true,
                ("verbose", _) => c.verbose = true,
                ("ipv4", _) => c.family = Some(Family::V4),
                ("ipv6", _) => c.family = Some(Family::V6),
                ("head", _) => c.head = true,
                ("include", _) => c.include = true,
                ("fail", _) => c.fail = true,
                ("location" | "insecure" | "compressed" | "no-progress-meter", _) => {
                    if long == "no-progress-meter" {
                        c.silent = true;
                        c.show_error = true;
                    }
                }
                ("output", Some(v)) => c.output = Some(v),
                ("write-out", Some(v)) => c.write_out = Some(v),
                ("header", Some(v)) => c.headers.push(v),
                ("user-agent", Some(v)) => c.headers.push(format!("User-Agent: {v}")),
                ("request", Some(v)) => c.method = Some(v),
                ("data" | "data-raw", Some(v)) => c.data = Some(v),
                ("max-time", Some(v)) => match secs(&v) {
                    Some(d) => c.max_time = Some(d),
                    None => return bad_time(a),
                },
                ("connect-timeout", Some(v)) => match secs(&v) {
                    Some(d) => c.connect_timeout = Some(d),
                    None => return bad_time(a),
                },
                _ => return unknown(a),
            }
            continue;
        }
        if a.len() > 1 && a.starts_with('-') {
            let flags: Vec<char> = a[1..].chars().collect();
            let mut k = 0;
            while k < flags.len() {
                let f = flags[k];
                k += 1;
                let takes = matches!(f, 'o' | 'w' | 'H' | 'm' | 'X' | 'd' | 'A');
                let val = if takes {
                    let rest: String = flags[k..].iter().collect();
                    k = flags.len();
                    if !rest.is_empty() {
                        Some(rest)
                    } else {
                        match args.get(i) {
                            Some(v) => {
                                i += 1;
                                Some(v.clone())
                            }
                            None => return needs(&format!("-{f}")),
                        }
                    }
                } else {
                    None
                };
                match (f, val) {
                    ('s', _) => c.silent = true,
                    ('S', _) => c.show_error = true,
                    ('v', _) => c.verbose = true,
                    ('4', _) => c.family = Some(Family::V4),
                    ('6', _) => c.family = Some(Family::V6),
                    ('I', _) => c.head = true,
                    ('i', _) => c.include = true,
                    ('f', _) => c.fail = true,
                    ('L' | 'k', _) => {}
                    ('o', Some(v)) => c.output = Some(v),
                    ('w', Some(v)) => c.write_out = Some(v),
                    ('H', Some(v)) => c.headers.push(v),
                    ('A', Some(v)) => c.headers.push(format!("User-Agent: {v}")),
                    ('X', Some(v)) => c.method = Some(v),
                    ('d', Some(v)) => c.data = Some(v),
                    ('m', Some(v)) => match secs(&v) {
                        Some(d) => c.max_time = Some(d),
                        None => return bad_time("-m"),
                    },
                    _ => return unknown(&format!("-{f}")),
                }
            }
            continue;
        }
        urls.push(a.clone());
    }
    match urls.into_iter().next() {
        Some(u) => {
            c.url = u;
            Command::Curl(c)
        }
        None => Command::Usage {
            stderr: format!("curl: no URL specified\n{CURL_TRY}"),
            code: 2,
        },
    }
}

const WGET_USAGE: &str = "BusyBox v1.37.0 (2024-09-26 21:31:42 UTC) multi-call binary.\n\nUsage: wget [-cqS] [--spider] [-O FILE] [-o LOGFILE] [--header STR]\n\t[--post-data STR | --post-file FILE] [-Y on/off]\n\t[-P DIR] [-U AGENT] [-T SEC] URL...\n\nRetrieve files via HTTP or FTP\n";

fn parse_wget(args: &[String]) -> Command {
    let mut w = Wget::default();
    let mut i = 0;
    let mut url = None;
    let usage = || Command::Usage {
        stderr: WGET_USAGE.into(),
        code: 1,
    };
    while i < args.len() {
        let a = &args[i];
        i += 1;
        match a.as_str() {
            "--spider" => w.spider = true,
            "--quiet" => w.quiet = true,
            "--server-response" => w.server_response = true,
            s if s.starts_with("--timeout=") => match secs(&s[10..]) {
                Some(d) => w.timeout = Some(d),
                None => return usage(),
            },
            s if s.starts_with("--output-document=") => w.output = Some(s[18..].to_string()),
            s if s.len() > 1 && s.starts_with('-') && !s.starts_with("--") => {
                let flags: Vec<char> = s[1..].chars().collect();
                let mut k = 0;
                while k < flags.len() {
                    let f = flags[k];
                    k += 1;
                    match f {
                        'q' => w.quiet = true,
                        'S' => w.server_response = true,
                        'c' => {}
                        'O' | 'T' | 'U' => {
                            let rest: String = flags[k..].iter().collect();
                            k = flags.len();
                            let v = if rest.is_empty() {
                                let v = args.get(i).cloned();
                                i += 1;
                                v
                            } else {
                                Some(rest)
                            };
                            let Some(v) = v else { return usage() };
                            match f {
                                'O' => w.output = Some(v),
                                'T' => match secs(&v) {
                                    Some(d) => w.timeout = Some(d),
                                    None => {
                                        return Command::Usage {
                                            stderr: format!("wget: invalid number '{v}'\n"),
                                            code: 1,
                                        }
                                    }
                                },
                                _ => {}
                            }
                        }
                        _ => {
                            return Command::Usage {
                                stderr: format!("wget: unrecognized option: {f}\n{WGET_USAGE}"),
                                code: 1,
                            }
                        }
                    }
                }
            }
            s if s.starts_with("--") => {
                return Command::Usage {
                    stderr: format!("wget: unrecognized option '{s}'\n{WGET_USAGE}"),
                    code: 1,
                }
            }
            _ => {
                if url.is_none() {
                    url = Some(a.clone());
                }
            }
        }
    }
    match url {
        Some(u) => {
            w.url = u;
            Command::Wget(w)
        }
        None => usage(),
    }
}

fn parse_nc(args: &[String], openbsd: bool) -> Command {
    let mut n = Nc {
        openbsd,
        ..Default::default()
    };
    let mut pos: Vec<String> = Vec::new();
    let mut i = 0;
    let usage = || Command::Usage {
        stderr: if openbsd {
            "usage: nc [-46CDdFhklNnrStUuvZz] [-I length] [-i interval] [-M ttl]\n\t  [-m minttl] [-O length] [-P proxy_username] [-p source_port]\n\t  [-q seconds] [-s sourceaddr] [-T keyword] [-V rtable] [-W recvlimit]\n\t  [-w timeout] [-X proxy_protocol] [-x proxy_address[:port]]\n\t  [destination] [port]\n".into()
        } else {
            "BusyBox v1.37.0 (2024-09-26 21:31:42 UTC) multi-call binary.\n\nUsage: nc [OPTIONS] HOST PORT  - connect\nnc [OPTIONS] -l -p PORT [HOST] [PORT]  - listen\n".into()
        },
        code: 1,
    };
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if a.len() > 1 && a.starts_with('-') {
            let flags: Vec<char> = a[1..].chars().collect();
            let mut k = 0;
            while k < flags.len() {
                let f = flags[k];
                k += 1;
                match f {
                    'z' => n.zero = true,
                    'v' => n.verbose = true,
                    'n' => {}
                    '4' => n.family = Some(Family::V4),
                    '6' => n.family = Some(Family::V6),
                    'w' | 'W' | 'i' | 'q' => {
                        let rest: String = flags[k..].iter().collect();
                        k = flags.len();
                        let v = if rest.is_empty() {
                            let v = args.get(i).cloned();
                            i += 1;
                            v
                        } else {
                            Some(rest)
                        };
                        let Some(v) = v else { return usage() };
                        if f == 'w' {
                            match secs(&v) {
                                Some(d) => n.timeout = Some(d),
                                None => return usage(),
                            }
                        }
                    }
                    _ => return usage(),
                }
            }
        } else {
            pos.push(a.clone());
        }
    }
    if pos.len() != 2 {
        return usage();
    }
    n.host = pos[0].clone();
    match pos[1].parse::<u16>() {
        Ok(p) => n.port = p,
        Err(_) => {
            return Command::Usage {
                stderr: if openbsd {
                    format!("nc: port number invalid: {}\n", pos[1])
                } else {
                    format!("nc: bad port '{}'\n", pos[1])
                },
                code: 1,
            }
        }
    }
    Command::Nc(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn images_and_their_tools() {
        let cases = [
            ("curlimages/curl", Toolbox::Curl),
            ("curlimages/curl:8.11.1", Toolbox::Curl),
            ("docker.io/curlimages/curl:latest", Toolbox::Curl),
            ("busybox", Toolbox::Busybox),
            ("docker.io/library/busybox:1.36", Toolbox::Busybox),
            ("busybox@sha256:abc", Toolbox::Busybox),
            ("nicolaka/netshoot", Toolbox::Netshoot),
            ("nginx", Toolbox::Other),
            ("localhost:5000/busybox", Toolbox::Busybox),
        ];
        for (image, want) in cases {
            assert_eq!(Toolbox::of(image), want, "{image}");
        }
        assert!(!Toolbox::Busybox.has("curl"));
        assert!(Toolbox::Curl.has("wget"));
        assert!(!Toolbox::Other.has("wget"));
    }

    #[test]
    fn curl_flags() {
        let cases: Vec<(&[&str], Curl)> = vec![
            (
                &["curl", "-sS", "-6", "http://[fd00::1]:80/x"],
                Curl {
                    url: "http://[fd00::1]:80/x".into(),
                    silent: true,
                    show_error: true,
                    family: Some(Family::V6),
                    ..Default::default()
                },
            ),
            (
                &[
                    "curl",
                    "-so",
                    "/dev/null",
                    "-w",
                    "%{http_code}",
                    "-m",
                    "2",
                    "web",
                ],
                Curl {
                    url: "web".into(),
                    silent: true,
                    output: Some("/dev/null".into()),
                    write_out: Some("%{http_code}".into()),
                    max_time: Some(Duration::from_secs(2)),
                    ..Default::default()
                },
            ),
            (
                &["curl", "-I", "-H", "Host: x", "--max-time=1.5", "http://a"],
                Curl {
                    url: "http://a".into(),
                    head: true,
                    headers: vec!["Host: x".into()],
                    max_time: Some(Duration::from_millis(1500)),
                    ..Default::default()
                },
            ),
        ];
        for (a, want) in cases {
            assert_eq!(parse(Toolbox::Curl, &argv(a)), Command::Curl(want), "{a:?}");
        }
        assert!(matches!(
            parse(Toolbox::Curl, &argv(&["curl"])),
            Command::Usage { code: 2, .. }
        ));
        assert!(matches!(
            parse(Toolbox::Curl, &argv(&["curl", "--bogus", "x"])),
            Command::Usage { code: 2, ref stderr } if stderr.starts_with("curl: option --bogus: is unknown")
        ));
        assert_eq!(
            parse(Toolbox::Busybox, &argv(&["curl", "x"])),
            Command::NotFound("curl".into())
        );
    }

    #[test]
    fn busybox_applets() {
        assert_eq!(
            parse(
                Toolbox::Busybox,
                &argv(&["wget", "-qO-", "-T", "3", "http://w"])
            ),
            Command::Wget(Wget {
                url: "http://w".into(),
                quiet: true,
                output: Some("-".into()),
                timeout: Some(Duration::from_secs(3)),
                ..Default::default()
            })
        );
        assert_eq!(
            parse(
                Toolbox::Busybox,
                &argv(&["nc", "-zv", "-w", "2", "web", "80"])
            ),
            Command::Nc(Nc {
                host: "web".into(),
                port: 80,
                zero: true,
                verbose: true,
                timeout: Some(Duration::from_secs(2)),
                ..Default::default()
            })
        );
        assert_eq!(
            parse(Toolbox::Busybox, &argv(&["exit", "300"])),
            Command::Exit(44)
        );
        assert_eq!(
            parse(Toolbox::Busybox, &argv(&["foo"])),
            Command::NotFound("foo".into())
        );
    }

    #[test]
    fn shell_lists() {
        let s = parse_script(
            "echo 'a b' && curl -s \"http://x\" >/dev/null; exit 3 || false",
            &|_| None,
        )
        .unwrap();
        let simple = |a: &[&str], quiet_out| Item::Simple {
            argv: argv(a),
            quiet_out,
            quiet_err: false,
        };
        assert_eq!(
            s.0,
            vec![
                (Sep::Seq, simple(&["echo", "a b"], false)),
                (Sep::And, simple(&["curl", "-s", "http://x"], true)),
                (Sep::Seq, simple(&["exit", "3"], false)),
                (Sep::Or, simple(&["false"], false)),
            ]
        );
        let lp = parse_script("while true; do wget -qO- http://w; sleep 1; done", &|_| {
            None
        })
        .unwrap();
        assert!(matches!(&lp.0[0].1, Item::Forever(body) if body.0.len() == 2));
        assert!(parse_script("echo 'x", &|_| None).is_err());
        assert!(parse_script("a | b", &|_| None).is_err());
        let env = parse_script("echo $HOSTNAME ${X}", &|n| Some(format!("<{n}>"))).unwrap();
        assert_eq!(env.0[0].1, simple(&["echo", "<HOSTNAME>", "<X>"], false));
    }
}
