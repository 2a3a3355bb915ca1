//! What a container's main process does with SIGTERM, read from what it runs: the container's
//! `command` and `args` (or the image's well-known defaults), as a container runtime starts it
//! as PID 1 of the container's PID namespace.
//!
//! The kernel delivers a signal to PID 1 of a PID namespace only if PID 1 installed a handler
//! for it (SIGKILL from the parent namespace always works). `sleep`, `tail` and a shell without
//! a `trap` install none, so SIGTERM is ignored and only SIGKILL at the end of the grace period
//! stops them; a real program (nginx, a Go or Java server) handles SIGTERM and exits.

use jiff::SignedDuration;

/// What the container's main process does when it receives SIGTERM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnSigterm {
    /// Exits: it handles SIGTERM, or it is not PID 1 and the default action ends it.
    Exits,
    /// Ignores it (PID 1 without a handler): runs until SIGKILL.
    Ignores,
    /// A shell with a TERM trap: the trap runs only once its foreground command returns, so it
    /// exits after (at most) that long.
    ExitsAfter(SignedDuration),
}

/// Images whose default command is known, by their last path component: (image, default
/// command). They have no entrypoint, or one that ends in `exec "$@"` (node), so `args` alone
/// become PID 1. busybox and alpine start a shell, python and node an interpreter.
const IMAGE_DEFAULTS: &[(&str, &[&str])] = &[
    ("busybox", &["sh"]),
    ("alpine", &["/bin/sh"]),
    ("ubuntu", &["/bin/bash"]),
    ("debian", &["bash"]),
    ("bash", &["bash"]),
    ("python", &["python3"]),
    ("node", &["node"]),
];

/// The repository name of an image reference without registry, tag or digest
/// (`docker.io/library/busybox:1.36` → `busybox`, `registry.k8s.io/e2e-test-images/busybox:1.36.1-1`
/// → `busybox`): the last path component.
pub fn image_repository(image: &str) -> &str {
    let name = image.split('@').next().unwrap_or(image);
    let last = name.rsplit('/').next().unwrap_or(name);
    last.split(':').next().unwrap_or(last)
}

/// The argv PID 1 runs: `command` + `args` when `command` is set; else the image's default
/// with `args` in place of its CMD, for images whose default is known. `None` when the image's
/// own entrypoint runs (unknown here).
pub fn container_argv(
    image: &str,
    command: Option<&[String]>,
    args: Option<&[String]>,
) -> Option<Vec<String>> {
    let command = command.filter(|c| !c.is_empty());
    let args = args.unwrap_or(&[]);
    if let Some(c) = command {
        return Some(c.iter().chain(args).cloned().collect());
    }
    let repo = image_repository(image);
    let (_, cmd) = IMAGE_DEFAULTS.iter().find(|(name, _)| *name == repo)?;
    if args.is_empty() {
        Some(cmd.iter().map(|s| s.to_string()).collect())
    } else {
        Some(args.to_vec())
    }
}

/// Base name of a program path (`/bin/sleep` → `sleep`).
fn program(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

fn is_shell(p: &str) -> bool {
    matches!(p, "sh" | "bash" | "ash" | "dash" | "zsh" | "ksh" | "mksh")
}

/// How many nested `sh -c` scripts are followed (hostile input cannot recurse deeper).
const MAX_NESTING: usize = 8;

/// What PID 1 running `argv` does on SIGTERM. `shares_pid_namespace` is the pod's
/// `shareProcessNamespace`: then the pause container is PID 1 and every container's process
/// gets the default action of SIGTERM, which ends it.
pub fn on_sigterm(argv: Option<&[String]>, shares_pid_namespace: bool) -> OnSigterm {
    if shares_pid_namespace {
        return OnSigterm::Exits;
    }
    match argv {
        None => OnSigterm::Exits,
        Some(argv) => pid1(argv, 0),
    }
}

fn pid1(argv: &[String], depth: usize) -> OnSigterm {
    let argv = skip_env(argv);
    let Some(first) = argv.first() else {
        return OnSigterm::Exits;
    };
    match program(first) {
        // Init processes forward the signal to their child, which is not PID 1.
        "tini" | "dumb-init" | "catatonit" | "docker-init" => OnSigterm::Exits,
        "sleep" | "tail" => OnSigterm::Ignores,
        "exec" => pid1(&argv[1..], depth),
        p if is_shell(p) => match script_arg(&argv[1..]) {
            Some(script) if depth < MAX_NESTING => shell(script, depth + 1),
            Some(_) => OnSigterm::Ignores,
            // A script file (unseen) or an interactive shell with no input, which exits at once.
            None => OnSigterm::Exits,
        },
        _ => OnSigterm::Exits,
    }
}

/// `env [NAME=value]... program ...` runs the program in place of itself.
fn skip_env(argv: &[String]) -> &[String] {
    match argv.first() {
        Some(p) if program(p) == "env" => {
            let rest = &argv[1..];
            let skip = rest
                .iter()
                .take_while(|w| w.contains('=') || w.starts_with('-'))
                .count();
            &rest[skip..]
        }
        _ => argv,
    }
}

/// The script of `sh [-opts] -c SCRIPT`, if the shell runs one.
fn script_arg(args: &[String]) -> Option<&str> {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a.starts_with('-') && !a.starts_with("--") {
            if a[1..].contains('c') {
                return it.next().map(String::as_str);
            }
            continue;
        }
        if a.starts_with("--") {
            continue;
        }
        return None;
    }
    None
}

/// A shell running `script` as PID 1. bash, dash and busybox ash execute the last simple
/// command of `-c` in place of themselves, so a script of one command (or ending in `exec`)
/// leaves that program as PID 1; otherwise the shell stays PID 1 and handles SIGTERM only
/// with a `trap`.
fn shell(script: &str, depth: usize) -> OnSigterm {
    let commands = split_commands(script);
    match commands.as_slice() {
        [] => OnSigterm::Exits,
        [only] if !only.background && only.simple() == only.words.as_slice() => {
            pid1(&only.words, depth)
        }
        [.., last] if last.simple().first().map(String::as_str) == Some("exec") => {
            pid1(&last.simple()[1..], depth)
        }
        _ => match term_trap(&commands) {
            Trap::None | Trap::Ignore => OnSigterm::Ignores,
            Trap::Handler => trapped_exit(&commands),
        },
    }
}

enum Trap {
    None,
    /// `trap '' TERM`: ignored explicitly.
    Ignore,
    Handler,
}

fn is_term(sig: &str) -> bool {
    matches!(sig.to_ascii_uppercase().as_str(), "TERM" | "SIGTERM" | "15")
}

/// The last `trap` of SIGTERM in the script.
fn term_trap(commands: &[Command]) -> Trap {
    let mut out = Trap::None;
    for c in commands {
        let w = c.simple();
        if w.first().map(String::as_str) != Some("trap") || w.len() < 3 {
            continue;
        }
        if !w[2..].iter().any(|s| is_term(s)) {
            continue;
        }
        out = match w[1].as_str() {
            "" => Trap::Ignore,
            "-" => Trap::None,
            _ => Trap::Handler,
        };
    }
    out
}

/// A shell with a TERM handler runs it when its foreground command returns: `wait` returns at
/// once on a trapped signal; a foreground `sleep` finishes first (at most its whole duration).
fn trapped_exit(commands: &[Command]) -> OnSigterm {
    if commands
        .iter()
        .any(|c| c.simple().first().map(String::as_str) == Some("wait"))
    {
        return OnSigterm::Exits;
    }
    let mut longest = SignedDuration::ZERO;
    for c in commands.iter().filter(|c| !c.background) {
        let w = skip_env(c.simple());
        if w.first().map(|p| program(p)) == Some("sleep") {
            match sleep_duration(&w[1..]) {
                Sleep::For(d) => longest = longest.max(d),
                Sleep::Forever => return OnSigterm::Ignores,
                Sleep::Unknown => {}
            }
        }
    }
    if longest.is_zero() {
        OnSigterm::Exits
    } else {
        OnSigterm::ExitsAfter(longest)
    }
}

/// How long `argv` runs when a hook executes it: a `sleep` its duration, a shell script the
/// sum of its foreground sleeps; anything else (and a sleep whose operand cannot be read) is
/// taken as quick. `None` for `sleep infinity`: it runs until the grace period ends.
pub fn run_time(argv: &[String]) -> Option<SignedDuration> {
    run_time_at(argv, 0)
}

fn run_time_at(argv: &[String], depth: usize) -> Option<SignedDuration> {
    let argv = skip_env(argv);
    let Some(first) = argv.first() else {
        return Some(SignedDuration::ZERO);
    };
    match program(first) {
        "sleep" => match sleep_duration(&argv[1..]) {
            Sleep::For(d) => Some(d),
            Sleep::Forever => None,
            Sleep::Unknown => Some(SignedDuration::ZERO),
        },
        "exec" => run_time_at(&argv[1..], depth),
        p if is_shell(p) && depth < MAX_NESTING => match script_arg(&argv[1..]) {
            Some(script) => {
                let mut total = SignedDuration::ZERO;
                for c in split_commands(script).iter().filter(|c| !c.background) {
                    total = total.checked_add(run_time_at(c.simple(), depth + 1)?)?;
                }
                Some(total)
            }
            None => Some(SignedDuration::ZERO),
        },
        _ => Some(SignedDuration::ZERO),
    }
}

/// The longest `sleep` there is: beyond it a duration is as good as forever.
const FOREVER_SECONDS: f64 = 1e9;

/// How long a `sleep` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sleep {
    For(SignedDuration),
    /// `sleep infinity` (or longer than anything a grace period allows).
    Forever,
    /// Operands that cannot be read here (`sleep $DELAY`) or that sleep would refuse.
    Unknown,
}

/// `sleep NUMBER[SUFFIX]...` (GNU and busybox): the sum of its operands with suffixes `s`, `m`,
/// `h`, `d`; `infinity` sleeps forever.
pub fn sleep_duration(operands: &[String]) -> Sleep {
    if operands.is_empty() {
        return Sleep::Unknown;
    }
    let mut total = 0f64;
    for op in operands {
        if op.eq_ignore_ascii_case("infinity") || op.eq_ignore_ascii_case("inf") {
            return Sleep::Forever;
        }
        let (num, unit) = match op.char_indices().last() {
            Some((i, c)) if c.is_ascii_alphabetic() => (&op[..i], c),
            _ => (op.as_str(), 's'),
        };
        let scale = match unit {
            's' => 1.0,
            'm' => 60.0,
            'h' => 3600.0,
            'd' => 86400.0,
            _ => return Sleep::Unknown,
        };
        // Digits and a point only: Rust's float parser would also take `inf`, `NaN` and `1e5`.
        if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return Sleep::Unknown;
        }
        let Ok(n) = num.parse::<f64>() else {
            return Sleep::Unknown;
        };
        if n < 0.0 {
            return Sleep::Unknown;
        }
        total += n * scale;
    }
    if total >= FOREVER_SECONDS {
        return Sleep::Forever;
    }
    Sleep::For(SignedDuration::from_secs_f64(total))
}

/// One simple command of a script and whether it runs in the background (`&`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub words: Vec<String>,
    pub background: bool,
}

impl Command {
    /// The words without the shell keywords that open a compound command (`while sleep 1`,
    /// `do sleep 5`, `{ trap ...`).
    pub fn simple(&self) -> &[String] {
        let skip = self
            .words
            .iter()
            .take_while(|w| {
                matches!(
                    w.as_str(),
                    "do" | "then" | "else" | "elif" | "if" | "while" | "until" | "{" | "(" | "!"
                )
            })
            .count();
        &self.words[skip..]
    }
}

/// Splits a shell script into simple commands at `;`, `&&`, `||`, `|`, `&` and newlines,
/// with single and double quotes grouping words. Not a shell parser: enough to see which
/// commands run, in the foreground or not.
pub fn split_commands(script: &str) -> Vec<Command> {
    let mut out = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = script.chars().peekable();
    let end = |words: &mut Vec<String>, background: bool, out: &mut Vec<Command>| {
        if !words.is_empty() {
            out.push(Command {
                words: std::mem::take(words),
                background,
            });
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == c {
                        break;
                    }
                    word.push(q);
                }
            }
            c if c.is_whitespace() && c != '\n' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            ';' | '\n' | '|' | '&' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
                let doubled = matches!(c, '|' | '&') && chars.peek() == Some(&c);
                if doubled {
                    chars.next();
                }
                end(&mut words, c == '&' && !doubled, &mut out);
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    end(&mut words, false, &mut out);
    out
}
