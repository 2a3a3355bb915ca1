//! Reading what a container runs (its command, a shell script, a preStop hook) never panics,
//! and what it decides is bounded by the grace period.
#![no_main]
use libfuzzer_sys::fuzz_target;
use twinstack_kube::pod::termination::process;

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let argv: Vec<String> = s.split('\0').map(String::from).collect();
    let _ = process::on_sigterm(Some(&argv), false);
    let _ = process::run_time(&argv);
    let _ = process::split_commands(&s);
    let _ = process::sleep_duration(&argv);
});
