//! `tanaka-2020-synflow` end to end at smoke scale on synthetic data: the harness's CLI suite
//! (bad inputs, SIGKILL and resume, corrupt files, the lock, results that only gain stages) and
//! what is this paper's own.

use harness::testkit::Suite;

const SUITE: Suite = Suite {
    bin: env!("CARGO_BIN_EXE_tanaka-2020-synflow"),
    id: "tanaka-2020-synflow",
    quick_figure: "figure-6",
    second_figure: "figure-2",
    experiment: "lenet",
    // Every figure draws stages of figure-2 or figure-6.
    unrun_figure: None,
};

harness::cli_suite!(SUITE);
