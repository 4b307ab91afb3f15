fn main() {
    std::process::exit(segc::cli::main());
}
