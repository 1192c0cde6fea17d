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

impl Claim {
    /// A claim judged by `agrees` (`None`: the numbers are missing at this scale).
    pub fn judged(claim: &str, paper: &str, tolerance: &str, setting: &str, ours: Option<(String, bool)>) -> Claim {
        let (ours, verdict) = match ours {
            Some((o, true)) => (o, Verdict::Agrees),
            Some((o, false)) => (o, Verdict::Disagrees),
            None => ("—".into(), Verdict::NotJudged("not measured at this scale".into())),
        };
        Claim { claim: claim.into(), paper: paper.into(), ours, setting: setting.into(), tolerance: tolerance.into(), verdict }
    }
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
            Verdict::NotJudged(why) => format!("not judged ({why})"),
        };
        s += &format!("| {citation} | {} | {} | {} | {} | {} | {verdict} |\n", c.claim, c.paper, c.ours, c.setting, c.tolerance);
    }
    s
}
