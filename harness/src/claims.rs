//! Claims tables: each paper's headline claims beside our numbers, with the tolerance each was
//! judged by and the verdict. `summary --headline` prints one paper's table; `make claims`
//! gathers every paper's rows into `results/CLAIMS.md`.

/// How a claim fared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Our number lies within the stated tolerance.
    Agrees,
    /// It does not.
    Disagrees,
    /// The effect is smaller than the spread between trials: neither a reproduction nor a
    /// failure (the comparison is shown).
    WithinNoise(String),
    /// The results cannot judge this claim (stage not run at this scale, or a scale too short to
    /// say anything); the reason is shown.
    NotJudged(String),
}

/// One row of a claims table.
#[derive(Debug, Clone)]
pub struct Claim {
    /// What the paper says, in a few words.
    pub claim: String,
    /// The paper's number.
    pub paper: String,
    /// Ours, with what it was computed from.
    pub ours: String,
    /// Scale, trials, iterations and data of our number.
    pub setting: String,
    /// The tolerance the verdict applies, stated so a reviewer can disagree with it.
    pub tolerance: String,
    pub verdict: Verdict,
}

/// A judging rule that states itself: [`Tolerance::text`] is what a claims row prints, and
/// [`Tolerance::judge`] decides from the same numbers, so the two cannot drift apart. Each
/// judges one number of ours (an effect, a ratio or a difference against a reference).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Tolerance {
    /// The paper reports an effect of size `paper` (in the units ours is measured in: a fraction
    /// saved, a speed-up minus one, a difference of accuracies): ours agrees with its sign and at
    /// least `fraction` of its size.
    SameDirection { paper: f64, fraction: f64 },
    /// Ours, a ratio to `of`, lies within `[lo, hi]`.
    Ratio { lo: f64, hi: f64, of: &'static str },
    /// Ours, a difference of fractions from `of`, is at most `max` in size.
    Within { max: f64, of: &'static str },
    /// Ours, a difference `subject − of` of fractions, compares with `margin` as `cmp` says:
    /// "≥ dense − 0.2 pp" is `{ subject: "", cmp: AtLeast, of: "dense", margin: -0.002 }`.
    Margin { subject: &'static str, cmp: Cmp, of: &'static str, margin: f64 },
    /// Ours, a difference from `of`, is negative.
    Below { of: &'static str },
}

/// How [`Tolerance::Margin`] compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    AtLeast,
    AtMost,
    Under,
}

impl Tolerance {
    /// An effect with the paper's sign and at least half its size: what a reviewer calls a
    /// reproduction of a reported effect.
    pub const fn half_of(paper: f64) -> Tolerance {
        Tolerance::SameDirection { paper, fraction: 0.5 }
    }

    /// The rule in words, as the claims row prints it.
    pub fn text(&self) -> String {
        match *self {
            Tolerance::SameDirection { fraction, .. } => {
                let share = match fraction {
                    0.5 => "half".to_string(),
                    0.25 => "a quarter of".to_string(),
                    f => format!("{:.0} % of", 100.0 * f),
                };
                format!("same direction, ≥ {share} the paper's effect")
            }
            Tolerance::Ratio { lo, hi, of } => format!("{lo}×–{hi}× {of}"),
            Tolerance::Margin { subject, cmp, of, margin } => {
                let sign = match cmp {
                    Cmp::AtLeast => "≥",
                    Cmp::AtMost => "≤",
                    Cmp::Under => "<",
                };
                let offset = match margin {
                    0.0 => String::new(),
                    m => format!(" {} {} pp", if m < 0.0 { "−" } else { "+" }, points(m.abs())),
                };
                let subject = if subject.is_empty() { String::new() } else { format!("{subject} ") };
                format!("{subject}{sign} {of}{offset}")
            }
            Tolerance::Within { max, of } => format!("within ±{} pp of {of}", points(max)),
            Tolerance::Below { of } => format!("below {of}"),
        }
    }

    /// Whether `ours` agrees under this rule (a non-finite number never does).
    pub fn judge(&self, ours: f64) -> bool {
        if !ours.is_finite() {
            return false;
        }
        match *self {
            Tolerance::SameDirection { paper, fraction } => ours * paper > 0.0 && ours.abs() >= fraction * paper.abs(),
            Tolerance::Ratio { lo, hi, .. } => (lo..=hi).contains(&ours),
            Tolerance::Margin { cmp, margin, .. } => match cmp {
                Cmp::AtLeast => ours >= margin,
                Cmp::AtMost => ours <= margin,
                Cmp::Under => ours < margin,
            },
            Tolerance::Within { max, .. } => ours.abs() <= max,
            Tolerance::Below { .. } => ours < 0.0,
        }
    }
}

impl Claim {
    /// A claim judged by `tolerance` on our number (`ours`: how the row shows it, and the value
    /// judged; `None`: the numbers are missing at this scale).
    pub fn measured(claim: &str, paper: &str, tolerance: Tolerance, setting: &str, ours: Option<(String, f64)>) -> Claim {
        Claim::judged(claim, paper, &tolerance.text(), setting, ours.map(|(shown, value)| (shown, tolerance.judge(value))))
    }

    /// A claim judged by a rule of its own, stated in `tolerance` (`None`: the numbers are
    /// missing at this scale); prefer [`Claim::measured`], whose rule states itself.
    pub fn judged(claim: &str, paper: &str, tolerance: &str, setting: &str, ours: Option<(String, bool)>) -> Claim {
        let (ours, verdict) = match ours {
            Some((o, true)) => (o, Verdict::Agrees),
            Some((o, false)) => (o, Verdict::Disagrees),
            None => ("—".into(), Verdict::NotJudged("not measured at this scale".into())),
        };
        Claim { claim: claim.into(), paper: paper.into(), ours, setting: setting.into(), tolerance: tolerance.into(), verdict }
    }

    /// The same claim, within noise where its `effect` (a difference of fractions) is smaller
    /// than `spread`, the min–max spread between trials (`None`: one trial, no spread to
    /// compare); the rule then says so. A claim not judged stays so.
    pub fn with_noise(mut self, effect: f64, spread: Option<f64>) -> Claim {
        let Some(spread) = spread else { return self };
        // No `|` here: the row is a Markdown table cell.
        self.tolerance += "; within noise if the effect is smaller than the trials' spread";
        if matches!(self.verdict, Verdict::Agrees | Verdict::Disagrees) && effect.abs() < spread {
            self.verdict = Verdict::WithinNoise(format!("effect {:.2} pp < spread {:.2} pp", 100.0 * effect.abs(), 100.0 * spread));
        }
        self
    }
}

/// A difference of fractions in percentage points, as a rule states it: `0.002` → `0.2`
/// (rounded to a millionth of a point: 100 × 0.003 is 0.30000000000000004 in binary).
fn points(x: f64) -> f64 {
    (1e8 * x).round() / 1e6
}

/// A fraction as a percentage in a claims row: `0.9812` → `98.12 %`.
pub fn pct(x: f64) -> String {
    format!("{:.2} %", 100.0 * x)
}

/// A difference of fractions in percentage points: `-0.0169` → `-1.69 pp`.
pub fn pp(x: f64) -> String {
    format!("{:+.2} pp", 100.0 * x)
}

/// Header of a claims table (two Markdown lines).
pub const HEADER: &str = "| Paper | Claim | Paper's number | Ours | Scale / data | Judged by | Verdict |\n|---|---|---|---|---|---|---|\n";

/// The Markdown table of `claims` for the paper cited as `citation`.
pub fn markdown(citation: &str, claims: &[Claim]) -> String {
    let mut s = HEADER.to_string();
    for c in claims {
        let verdict = match &c.verdict {
            Verdict::Agrees => "agrees".to_string(),
            Verdict::Disagrees => "**disagrees**".to_string(),
            Verdict::WithinNoise(why) => format!("within noise ({why})"),
            Verdict::NotJudged(why) => format!("not judged ({why})"),
        };
        s += &format!("| {citation} | {} | {} | {} | {} | {} | {verdict} |\n", c.claim, c.paper, c.ours, c.setting, c.tolerance);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::Cmp;
    use super::Tolerance::{self, *};

    /// `(rule, ours, agrees)`, the boundaries included.
    const CASES: &[(Tolerance, f64, bool)] = &[
        (Tolerance::half_of(0.38), 0.19, true),
        (Tolerance::half_of(0.38), 0.189, false),
        (Tolerance::half_of(0.38), 0.9, true),
        (Tolerance::half_of(0.38), -0.3, false),
        (Tolerance::half_of(-0.02), -0.011, true),
        (Tolerance::half_of(-0.02), 0.011, false),
        (Tolerance::half_of(0.005), 0.0025, true),
        (Tolerance::half_of(0.005), f64::NAN, false),
        (Ratio { lo: 0.75, hi: 1.25, of: "dense" }, 0.75, true),
        (Ratio { lo: 0.75, hi: 1.25, of: "dense" }, 1.26, false),
        (Within { max: 0.003, of: "dense" }, -0.003, true),
        (Within { max: 0.003, of: "dense" }, 0.0055, false),
        (Below { of: "dense" }, -0.0001, true),
        (Below { of: "dense" }, 0.0, false),
        (Below { of: "dense" }, f64::NEG_INFINITY, false),
        (Margin { subject: "", cmp: Cmp::AtLeast, of: "dense", margin: -0.002 }, -0.002, true),
        (Margin { subject: "", cmp: Cmp::AtLeast, of: "dense", margin: -0.002 }, -0.0021, false),
        (Margin { subject: "", cmp: Cmp::Under, of: "dense", margin: -0.002 }, -0.002, false),
        (Margin { subject: "IMP", cmp: Cmp::AtMost, of: "reinit", margin: 0.01 }, 0.01, true),
        (Margin { subject: "IMP", cmp: Cmp::AtMost, of: "reinit", margin: 0.01 }, 0.0101, false),
    ];

    #[test]
    fn each_rule_judges_its_boundaries() {
        for (rule, ours, agrees) in CASES {
            assert_eq!(rule.judge(*ours), *agrees, "{} on {ours}", rule.text());
        }
    }

    #[test]
    fn an_effect_smaller_than_the_spread_is_within_noise() {
        let claim = |ours: f64| super::Claim::measured("c", "p", Tolerance::half_of(0.01), "s", Some((String::new(), ours)));
        let noisy = claim(0.004).with_noise(0.004, Some(0.005));
        assert_eq!(noisy.verdict, super::Verdict::WithinNoise("effect 0.40 pp < spread 0.50 pp".into()));
        assert!(noisy.tolerance.ends_with("within noise if the effect is smaller than the trials' spread"), "{}", noisy.tolerance);
        assert_eq!(claim(0.006).with_noise(0.006, Some(0.005)).verdict, super::Verdict::Agrees);
        assert_eq!(claim(-0.006).with_noise(-0.006, Some(0.005)).verdict, super::Verdict::Disagrees);
        let one_trial = claim(0.004).with_noise(0.004, None);
        assert_eq!((one_trial.verdict, one_trial.tolerance), (super::Verdict::Disagrees, "same direction, ≥ half the paper's effect".to_string()));
    }

    /// The README's table of papers states each paper's verdict counts; they are those of its
    /// committed `small` headline.
    #[test]
    fn the_readme_counts_are_the_committed_headlines() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
        let rows: Vec<Vec<&str>> = readme.lines().filter(|l| l.contains("](docs/papers/")).map(|l| l.split('|').map(str::trim).collect::<Vec<_>>()).collect();
        assert!(rows.len() >= 7, "a row per paper: {rows:?}");
        for cells in rows {
            let id = cells[2].split(['[', ']']).nth(1).expect("[id](docs/papers/id.md)");
            let headline = std::fs::read_to_string(root.join(format!("results/{id}/small/headline.md"))).unwrap();
            let count = |verdict: &str| headline.lines().filter(|l| l.trim_end().ends_with(verdict)).count().to_string();
            let with = |prefix: &str| headline.lines().filter(|l| l.contains(prefix)).count().to_string();
            let counts = [count("| agrees |"), count("| **disagrees** |"), with("| within noise ("), with("| not judged")];
            assert_eq!(&cells[4..8], counts.as_slice(), "{id}: README counts vs headline.md");
        }
    }

    #[test]
    fn each_rule_states_itself() {
        assert_eq!(Tolerance::half_of(0.38).text(), "same direction, ≥ half the paper's effect");
        assert_eq!(SameDirection { paper: 1.0, fraction: 0.25 }.text(), "same direction, ≥ a quarter of the paper's effect");
        assert_eq!(Ratio { lo: 0.75, hi: 1.25, of: "dense" }.text(), "0.75×–1.25× dense");
        assert_eq!(Within { max: 0.003, of: "dense" }.text(), "within ±0.3 pp of dense");
        assert_eq!(Below { of: "dense" }.text(), "below dense");
        assert_eq!(Margin { subject: "", cmp: Cmp::AtLeast, of: "dense", margin: -0.002 }.text(), "≥ dense − 0.2 pp");
        assert_eq!(Margin { subject: "", cmp: Cmp::Under, of: "dense", margin: -0.002 }.text(), "< dense − 0.2 pp");
        assert_eq!(Margin { subject: "IMP", cmp: Cmp::AtMost, of: "reinit", margin: 0.01 }.text(), "IMP ≤ reinit + 1 pp");
        assert_eq!(Margin { subject: "", cmp: Cmp::AtLeast, of: "own", margin: 0.0 }.text(), "≥ own");
    }
}
