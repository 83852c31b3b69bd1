//! How long `lab report` measures.

/// How long to measure.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `quick` or `full`.
    pub mode: String,
    /// Interleaved rounds.
    pub rounds: u32,
    /// Criterion flags for every Rust and peer bench.
    pub criterion_args: Vec<String>,
    /// Go `-benchtime` per round.
    pub go_benchtime: String,
    /// Run the crates.io peer (needs the `peer` feature build).
    pub peer: bool,
    /// Run Go (when the go command exists).
    pub go: bool,
    /// A git ref to measure §2's scenarios against (`lab compare`); `None` leaves §2 out.
    pub compare: Option<String>,
}

impl Settings {
    /// Quick mode: the README's main job — 10 rounds of short measurements.
    pub fn quick() -> Settings {
        Settings {
            mode: "quick".into(),
            rounds: 10,
            criterion_args: [
                "--warm-up-time",
                "0.05",
                "--measurement-time",
                "0.15",
                "--sample-size",
                "10",
                "--nresamples",
                "1000",
            ]
            .map(String::from)
            .to_vec(),
            go_benchtime: "50ms".into(),
            peer: true,
            go: true,
            compare: None,
        }
    }

    /// Full mode: tighter figures, about an hour.
    pub fn full() -> Settings {
        Settings {
            mode: "full".into(),
            rounds: 10,
            criterion_args: [
                "--warm-up-time",
                "1",
                "--measurement-time",
                "3",
                "--sample-size",
                "30",
            ]
            .map(String::from)
            .to_vec(),
            go_benchtime: "1s".into(),
            ..Settings::quick()
        }
    }
}
