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

/// Why a claim whose numbers are missing at this scale is not judged.
const NOT_MEASURED: &str = "not measured at this scale";

/// Where a claims row's numbers were measured: the Scale / data column's text ("small, 3
/// trials, 4000 it, mnist (55000 train)") and the trials behind it, so a row measured on one
/// trial says "1 trial" in its spread column whatever the other rows of its paper ran. A file
/// trained trial by trial holds fewer trials than its protocol plans until the last is in
/// ([`ScaleData::so_far`]); its rows show our numbers and wait for the rest to be judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaleData {
    text: String,
    trials: u32,
    planned: u32,
}

impl ScaleData {
    /// Numbers measured over `trials` trials, all the protocol plans, described by `text`.
    pub fn new(text: impl Into<String>, trials: u32) -> ScaleData {
        ScaleData { text: text.into(), trials, planned: trials }
    }

    /// Numbers measured over the first `trials` of the `planned` trials of the protocol.
    pub fn so_far(text: impl Into<String>, trials: u32, planned: u32) -> ScaleData {
        ScaleData { text: text.into(), trials, planned: planned.max(trials) }
    }

    /// Nothing measured at this scale; `text` says so ("—", "not run at this scale").
    pub fn missing(text: impl Into<String>) -> ScaleData {
        ScaleData { text: text.into(), trials: 0, planned: 0 }
    }

    /// Why a row measured here is not judged yet: some of the planned trials are not in.
    fn trials_missing(&self) -> Option<String> {
        (self.trials < self.planned).then(|| format!("{} of the protocol's {} trials so far", self.trials, self.planned))
    }

    /// The setting of a results file ([`crate::Loaded::setting`]), or "—" where there is none.
    pub fn of<E>(loaded: Option<&crate::Loaded<E>>) -> ScaleData {
        loaded.map_or_else(|| ScaleData::missing("—"), crate::Loaded::setting)
    }
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
    /// Scale, trials, iterations and data of our number ([`ScaleData`]'s text).
    pub setting: String,
    /// The tolerance the verdict applies, stated so a reviewer can disagree with it.
    pub tolerance: String,
    /// How much our number moves between trials.
    pub spread: Spread,
    pub verdict: Verdict,
    /// The rules and the values they judged (one each), for [`Claim::with_spread`].
    measured: Vec<(Tolerance, f64)>,
}

/// The spread between trials of the numbers a claim compares.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Spread {
    /// Not stated for this row (a rule on other quantities than trial means).
    NotStated,
    /// One trial: there is no spread to compare, and the verdict says nothing about noise.
    OneTrial,
    /// The largest min–max range over trials among the compared numbers (a difference of
    /// fractions).
    Measured(f64),
    /// The same for a ratio (of early-stop iterations, say), in its own units.
    Ratio(f64),
    /// The same for a number in units of its own (a game's reward), named.
    Units(f64, &'static str),
}

impl Spread {
    /// The column's text.
    pub fn text(&self) -> String {
        match self {
            Spread::NotStated => "—".into(),
            Spread::OneTrial => "1 trial".into(),
            Spread::Measured(s) => format!("{:.2} pp", 100.0 * s),
            Spread::Ratio(s) => format!("{}×", decimals(*s)),
            Spread::Units(s, unit) => in_units(*s, unit),
        }
    }

    /// The spread of the compared numbers, each given by its values over trials: the largest
    /// min–max range among them; [`Spread::OneTrial`] when none has two values, and
    /// [`Spread::NotStated`] when none has any (nothing measured).
    pub fn of(compared: &[&[f64]]) -> Spread {
        let range = |v: &[f64]| v.iter().copied().fold(f64::NEG_INFINITY, f64::max) - v.iter().copied().fold(f64::INFINITY, f64::min);
        match compared.iter().filter(|v| v.len() > 1).map(|v| range(v)).reduce(f64::max) {
            Some(s) => Spread::Measured(s),
            None if compared.iter().any(|v| !v.is_empty()) => Spread::OneTrial,
            None => Spread::NotStated,
        }
    }

    /// The same spread of numbers that are ratios, not fractions ([`Spread::Ratio`]).
    pub fn as_ratio(self) -> Spread {
        match self {
            Spread::Measured(range) => Spread::Ratio(range),
            other => other,
        }
    }

    /// The same spread of numbers in `unit`s of their own ([`Spread::Units`]: decades, nats).
    pub fn in_units(self, unit: &'static str) -> Spread {
        match self {
            Spread::Measured(range) => Spread::Units(range, unit),
            other => other,
        }
    }
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
    Over,
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
                    Cmp::Over => ">",
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

    /// How far `ours` lies from the rule's boundary, in its units (a difference of fractions,
    /// or of ratios for [`Tolerance::Ratio`]): the size of the effect the verdict rests on.
    pub fn distance(&self, ours: f64) -> Option<f64> {
        match *self {
            Tolerance::SameDirection { paper, fraction } => Some((ours - fraction * paper).abs()),
            Tolerance::Ratio { lo, hi, .. } => Some((ours - lo).abs().min((ours - hi).abs())),
            Tolerance::Margin { margin, .. } => Some((ours - margin).abs()),
            Tolerance::Within { max, .. } => Some((ours.abs() - max).abs()),
            Tolerance::Below { .. } => Some(ours.abs()),
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
                Cmp::Over => ours > margin,
            },
            Tolerance::Within { max, .. } => ours.abs() <= max,
            Tolerance::Below { .. } => ours < 0.0,
        }
    }
}

impl Claim {
    /// A claim judged by `tolerance` on our number (`ours`: how the row shows it, and the value
    /// judged; `None`: the numbers are missing at this scale).
    pub fn measured(claim: &str, paper: &str, tolerance: Tolerance, setting: &ScaleData, ours: Option<(String, f64)>) -> Claim {
        Claim::all_of(claim, paper, &[tolerance], setting, ours.map(|(shown, value)| (shown, vec![value])))
    }

    /// A claim judged by every one of `rules`, each on its own number (`ours`: how the row
    /// shows them, and the values in the rules' order; `None`: missing at this scale). It agrees
    /// where each rule does, and its "judged by" text is the rules' own joined by "and", so text
    /// and verdict come from the same rules. For [`Claim::with_spread`], the verdict's distance
    /// from flipping is the nearest rule's distance to its boundary where it agrees, and the
    /// farthest failing rule's where it does not (every failing rule must cross to agree).
    pub fn all_of(claim: &str, paper: &str, rules: &[Tolerance], setting: &ScaleData, ours: Option<(String, Vec<f64>)>) -> Claim {
        let text = rules.iter().map(Tolerance::text).collect::<Vec<_>>().join(" and ");
        let Some((shown, values)) = ours else {
            return Claim::judged(claim, paper, &text, setting, None);
        };
        assert_eq!(values.len(), rules.len(), "one value per rule");
        let agrees = rules.iter().zip(&values).all(|(rule, v)| rule.judge(*v));
        let mut c = Claim::judged(claim, paper, &text, setting, Some((shown, agrees)));
        c.measured = rules.iter().copied().zip(values).collect();
        c
    }

    /// A claim judged by a rule of its own, stated in `tolerance` (`None`: the numbers are
    /// missing at this scale; a `setting` short of its planned trials shows ours, not judged
    /// yet); prefer [`Claim::measured`], whose rule states itself.
    pub fn judged(claim: &str, paper: &str, tolerance: &str, setting: &ScaleData, ours: Option<(String, bool)>) -> Claim {
        let (ours, verdict) = match (ours, setting.trials_missing()) {
            (Some((o, _)), Some(why)) => (o, Verdict::NotJudged(why)),
            (Some((o, true)), None) => (o, Verdict::Agrees),
            (Some((o, false)), None) => (o, Verdict::Disagrees),
            (None, _) => ("—".into(), Verdict::NotJudged(NOT_MEASURED.into())),
        };
        let spread = match (&verdict, setting.trials) {
            (Verdict::Agrees | Verdict::Disagrees, 1) => Spread::OneTrial,
            _ => Spread::NotStated,
        };
        Claim {
            claim: claim.into(),
            paper: paper.into(),
            ours,
            setting: setting.text.clone(),
            tolerance: tolerance.into(),
            spread,
            verdict,
            measured: Vec::new(),
        }
    }

    /// The same claim under a condition the paper's claim states ("as accuracy improves"): the
    /// rule's text gains ", where {condition}", and where the condition fails (`failed`: why,
    /// with our numbers) a verdict — within noise included — becomes "not judged" for that
    /// reason.
    pub fn provided(mut self, condition: &str, failed: Option<String>) -> Claim {
        self.tolerance = format!("{}, where {condition}", self.tolerance);
        if let (Some(why), Verdict::Agrees | Verdict::Disagrees | Verdict::WithinNoise(_)) = (failed, &self.verdict) {
            self.verdict = Verdict::NotJudged(why);
        }
        self
    }

    /// Whether our numbers exist at this scale (a row without them shows "—" for ours and for
    /// the spread).
    pub fn is_measured(&self) -> bool {
        !matches!(&self.verdict, Verdict::NotJudged(why) if why == NOT_MEASURED)
    }

    /// The same claim with the trials' `spread` of the numbers it compares, judged for noise
    /// by its own rule's [`Tolerance::distance`] (see [`Claim::with_noise`]).
    pub fn with_spread(self, spread: Spread) -> Claim {
        let distances = |agreeing: bool| self.measured.iter().filter(move |(rule, v)| rule.judge(*v) == agreeing).filter_map(|(rule, v)| rule.distance(*v));
        let effect = match self.verdict {
            _ if self.measured.is_empty() => None,
            Verdict::Agrees => distances(true).reduce(f64::min),
            _ => distances(false).reduce(f64::max),
        };
        match effect {
            Some(effect) => self.with_noise(effect, spread),
            None if self.is_measured() => Claim { spread, ..self },
            None => self,
        }
    }

    /// The same claim with the trials' `spread`, within noise where `effect` — how far our
    /// number lies from the rule's boundary, a difference of fractions — is smaller than the
    /// spread: another draw of trials could then flip the verdict. One trial leaves the verdict
    /// as it is (and the row says "1 trial"); a claim not judged stays so, and one not measured
    /// keeps "—" for its spread.
    pub fn with_noise(mut self, effect: f64, spread: Spread) -> Claim {
        if !self.is_measured() {
            return self;
        }
        self.spread = spread;
        let judged = matches!(self.verdict, Verdict::Agrees | Verdict::Disagrees);
        match spread {
            Spread::Measured(s) if judged && effect.abs() < s => {
                self.verdict = Verdict::WithinNoise(format!("{:.2} pp from the rule's boundary < spread {:.2} pp", 100.0 * effect.abs(), 100.0 * s));
            }
            Spread::Ratio(s) if judged && effect.abs() < s => {
                self.verdict = Verdict::WithinNoise(format!("{}× from the rule's boundary < spread {}×", decimals(effect.abs()), decimals(s)));
            }
            Spread::Units(s, unit) if judged && effect.abs() < s => {
                self.verdict = Verdict::WithinNoise(format!("{} from the rule's boundary < spread {}", in_units(effect.abs(), unit), in_units(s, unit)));
            }
            _ => {}
        }
        self
    }
}

/// A difference of fractions in percentage points, as a rule states it: `0.002` → `0.2`
/// (rounded to a millionth of a point: 100 × 0.003 is 0.30000000000000004 in binary).
fn points(x: f64) -> f64 {
    (1e8 * x).round() / 1e6
}

/// A number in units of its own: one decimal from 1 up (a game's reward), two below (decades of
/// compression, nats).
fn in_units(x: f64, unit: &str) -> String {
    if x >= 1.0 {
        format!("{x:.1} {unit}")
    } else {
        format!("{} {unit}", decimals(x))
    }
}

/// `x ≥ 0` with two decimals, or, where two would round it to zero, with as many as its first
/// significant digit needs: a spread of 0.0028 prints "0.003", not "0.00".
fn decimals(x: f64) -> String {
    let places = if x > 0.0 && x < 0.005 { (-x.log10().floor()) as usize } else { 2 };
    format!("{x:.places$}")
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
pub const HEADER: &str = "| Paper | Claim | Paper's number | Ours | Scale / data | Judged by | Trials' spread | Verdict |\n|---|---|---|---|---|---|---|---|\n";

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
        s += &format!("| {citation} | {} | {} | {} | {} | {} | {} | {verdict} |\n", c.claim, c.paper, c.ours, c.setting, c.tolerance, c.spread.text());
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

    /// A row's setting: three trials.
    fn three() -> super::ScaleData {
        super::ScaleData::new("small, 3 trials", 3)
    }

    #[test]
    fn a_row_measured_on_one_trial_says_so_whatever_its_paper_ran() {
        use super::{Claim, ScaleData, Spread};
        let rule = Tolerance::half_of(0.01);
        let one = Claim::measured("c", "p", rule, &ScaleData::new("small, 1 trial", 1), Some((String::new(), 0.02)));
        assert_eq!((one.spread, one.setting.as_str()), (Spread::OneTrial, "small, 1 trial"));
        assert_eq!(Claim::measured("c", "p", rule, &three(), Some((String::new(), 0.02))).spread, Spread::NotStated);
        assert_eq!(Claim::measured("c", "p", rule, &ScaleData::missing("—"), None).spread.text(), "—");
        // A measured spread replaces it.
        assert_eq!(one.with_spread(Spread::Measured(0.001)).spread, Spread::Measured(0.001));
    }

    #[test]
    fn a_row_short_of_its_planned_trials_shows_ours_and_waits_for_the_rest() {
        use super::{Claim, ScaleData, Spread, Verdict};
        let rule = Tolerance::half_of(0.01);
        let first = ScaleData::so_far("paper, 1 of 3 trials", 1, 3);
        let one = Claim::measured("c", "p", rule, &first, Some(("+2.00 pp".into(), 0.02))).with_spread(Spread::OneTrial);
        assert_eq!(one.verdict, Verdict::NotJudged("1 of the protocol's 3 trials so far".into()));
        assert_eq!((one.ours.as_str(), one.is_measured(), one.spread.text()), ("+2.00 pp", true, "1 trial".to_string()));
        // Two of three: the spread is shown, and a noise judgement does not replace the wait.
        let two = Claim::measured("c", "p", rule, &ScaleData::so_far("paper, 2 of 3 trials", 2, 3), Some((String::new(), 0.0051)));
        let two = two.with_spread(Spread::Measured(0.01));
        assert_eq!((two.verdict, two.spread), (Verdict::NotJudged("2 of the protocol's 3 trials so far".into()), Spread::Measured(0.01)));
        // Every planned trial in (or more): judged as usual.
        assert_eq!(Claim::measured("c", "p", rule, &ScaleData::so_far("paper, 3 trials", 3, 3), Some((String::new(), 0.02))).verdict, Verdict::Agrees);
        assert_eq!(Claim::measured("c", "p", rule, &ScaleData::so_far("paper, 5 trials", 5, 3), Some((String::new(), 0.0))).verdict, Verdict::Disagrees);
    }

    #[test]
    fn a_verdict_closer_to_its_boundary_than_the_spread_is_within_noise() {
        use super::{Claim, Spread, Verdict};
        // "≥ dense − 0.2 pp": the boundary is at −0.2 pp.
        let matching = |ours: f64| {
            Claim::measured("c", "p", Margin { subject: "", cmp: Cmp::AtLeast, of: "dense", margin: -0.002 }, &three(), Some((String::new(), ours)))
        };
        let noisy = matching(-0.001).with_spread(Spread::Measured(0.005));
        assert_eq!(noisy.verdict, Verdict::WithinNoise("0.10 pp from the rule's boundary < spread 0.50 pp".into()));
        assert_eq!(noisy.spread.text(), "0.50 pp");
        // Far from the boundary: the verdict stands, in either direction.
        assert_eq!(matching(0.004).with_spread(Spread::Measured(0.005)).verdict, Verdict::Agrees);
        assert_eq!(matching(-0.008).with_spread(Spread::Measured(0.005)).verdict, Verdict::Disagrees);
        // One trial: no noise judgement, and the row says so.
        let one = matching(-0.001).with_spread(Spread::OneTrial);
        assert_eq!((one.verdict, one.spread.text()), (Verdict::Agrees, "1 trial".to_string()));
        // A ratio is judged against a spread of ratios.
        let ratio = |x: f64, s: f64| {
            Claim::measured("c", "p", Ratio { lo: 0.75, hi: 1.25, of: "dense" }, &three(), Some((String::new(), x))).with_spread(Spread::Ratio(s))
        };
        assert_eq!(ratio(0.89, 0.42).verdict, Verdict::WithinNoise("0.14× from the rule's boundary < spread 0.42×".into()));
        assert_eq!(ratio(1.0, 0.1).verdict, Verdict::Agrees);
        assert_eq!(ratio(0.47, 0.1).spread.text(), "0.10×");
        // A small spread keeps its first digit rather than printing as zero.
        assert_eq!(ratio(0.97, 0.0028).spread.text(), "0.003×");
        assert_eq!(Spread::Units(0.0004, "nats").text(), "0.0004 nats");
        assert_eq!(Spread::Ratio(0.0).text(), "0.00×");
        // A hand-judged rule states its distance itself; a claim not judged stays so.
        let judged = Claim::judged("c", "p", "rule", &three(), Some((String::new(), false))).with_noise(0.001, Spread::Measured(0.002));
        assert!(matches!(judged.verdict, Verdict::WithinNoise(_)));
        let missing = Claim::measured("c", "p", Tolerance::half_of(0.01), &three(), None).with_spread(Spread::Measured(0.5));
        assert!(matches!(missing.verdict, Verdict::NotJudged(_)));
        // Nothing measured: no spread to show either, on one trial or several.
        assert_eq!((missing.is_measured(), missing.spread), (false, Spread::NotStated));
        let one = super::ScaleData::new("small, 1 trial", 1);
        assert_eq!(Claim::measured("c", "p", Tolerance::half_of(0.01), &one, None).with_spread(Spread::OneTrial).spread, Spread::NotStated);
    }

    #[test]
    fn a_conjunction_states_its_rules_and_flips_at_the_right_one() {
        use super::{Claim, Spread, Verdict};
        let rules = [Margin { subject: "WR", cmp: Cmp::Over, of: "FT", margin: 0.0 }, Margin { subject: "LRR", cmp: Cmp::AtLeast, of: "WR", margin: -0.005 }];
        let claim = |values: Vec<f64>| Claim::all_of("c", "p", &rules, &three(), Some((String::new(), values)));
        assert_eq!(claim(vec![0.01, 0.0]).tolerance, "WR > FT and LRR ≥ WR − 0.5 pp");
        assert_eq!(claim(vec![0.01, -0.004]).verdict, Verdict::Agrees);
        assert_eq!(claim(vec![0.01, -0.006]).verdict, Verdict::Disagrees);
        assert_eq!(claim(vec![0.0, 0.01]).verdict, Verdict::Disagrees);
        // Agreeing, the rule nearest its boundary decides: 0.1 pp from it < a 0.2 pp spread.
        assert!(matches!(claim(vec![0.03, -0.004]).with_spread(Spread::Measured(0.002)).verdict, Verdict::WithinNoise(ref why) if why.starts_with("0.10 pp")));
        // Failing both, the farther failure must be crossed too: 3 pp from agreeing > 0.2 pp.
        assert_eq!(claim(vec![-0.03, -0.006]).with_spread(Spread::Measured(0.002)).verdict, Verdict::Disagrees);
        assert!(matches!(Claim::all_of("c", "p", &rules, &three(), None).verdict, Verdict::NotJudged(_)));
    }

    #[test]
    fn the_spread_is_the_widest_range_of_the_compared_numbers() {
        use super::Spread;
        assert_eq!(Spread::of(&[&[0.97, 0.98, 0.975], &[0.96, 0.962]]), Spread::Measured(0.98 - 0.97));
        assert_eq!(Spread::of(&[&[0.97], &[0.96]]), Spread::OneTrial);
        assert_eq!(Spread::of(&[&[], &[]]), Spread::NotStated);
        assert_eq!(Spread::of(&[&[0.97], &[0.96, 0.961]]), Spread::Measured(0.961 - 0.96));
    }

    #[test]
    fn each_rule_measures_its_distance_to_the_boundary() {
        let d = |rule: Tolerance, ours: f64| rule.distance(ours).map(|x| (x * 1e9).round() / 1e9);
        assert_eq!(d(Tolerance::half_of(0.02), 0.004), Some(0.006));
        assert_eq!(d(Margin { subject: "", cmp: Cmp::AtLeast, of: "dense", margin: -0.002 }, 0.003), Some(0.005));
        assert_eq!(d(Within { max: 0.003, of: "dense" }, -0.001), Some(0.002));
        assert_eq!(d(Below { of: "dense" }, -0.004), Some(0.004));
        assert_eq!(d(Ratio { lo: 0.75, hi: 1.25, of: "dense" }, 1.2), Some(0.05));
        assert_eq!(d(Ratio { lo: 0.75, hi: 1.25, of: "dense" }, 0.5), Some(0.25));
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
