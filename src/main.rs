fn main() {
    // A panic is a bug in segc, never the user's fault: say so, and exit 2 (the status of
    // a failure that is not an error in the project) instead of Rust's 101.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("segc: internal error: {info}");
        eprintln!("This is a bug in segc. Previous outputs were left as they were.");
        std::process::exit(2);
    }));
    std::process::exit(segc::cli::main());
}
