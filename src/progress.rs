//! Progress on stderr while a run loads tables and writes outputs: shown only when stderr is
//! a terminal and problems are reported for people, so pipes and CI logs stay clean.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar over the bytes of the tables to load, then a spinner while outputs are written.
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A bar for loading `total` bytes; hidden unless `shown`.
    pub fn loading(total: u64, shown: bool) -> Progress {
        if !shown {
            return Progress { bar: None };
        }
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "{spinner} loading {msg:20} [{bar:30}] {binary_bytes}/{binary_total_bytes}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress { bar: Some(bar) }
    }

    /// Names the table being loaded.
    pub fn table(&self, name: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(name.to_string());
        }
    }

    /// Counts `bytes` as loaded.
    pub fn advance(&self, bytes: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(bytes);
        }
    }

    /// Turns the bar into a spinner while `files` outputs are written.
    pub fn writing(&self, files: usize) {
        if let Some(bar) = &self.bar {
            bar.set_length(files as u64);
            bar.set_position(0);
            let style = ProgressStyle::with_template("{spinner} writing {len} files")
                .unwrap_or_else(|_| ProgressStyle::default_spinner());
            bar.set_style(style);
        }
    }

    /// Removes the bar from the terminal.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
