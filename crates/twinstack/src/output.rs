//! The CLI's output, as a well-mannered Unix tool writes it: when whoever reads stdout goes away
//! (`twinstack runtime list | head -1`), the command ends quietly with status 0, as ripgrep does
//! (`crates/core/main.rs`: a broken pipe is not an error); a stderr nobody reads is ignored.
//! `println!` would panic on both.

use std::fmt;
use std::io::Write;

/// Writes to stdout; ends the process quietly if the reader has gone.
pub fn stdout(args: fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        stderr(format_args!("error: writing to stdout: {e}\n"));
        std::process::exit(1);
    }
}

/// Writes to stderr; failures are ignored (there is nowhere left to report them).
pub fn stderr(args: fmt::Arguments<'_>) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_fmt(args).and_then(|()| err.flush());
}

/// `println!` to stdout through [`stdout`].
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::output::stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` to stdout through [`stdout`].
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::stdout(format_args!($($arg)*))
    };
}

/// `eprintln!` through [`stderr`].
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::output::stderr(format_args!("{}\n", format_args!($($arg)*)))
    };
}

pub(crate) use {errln, out, outln};
