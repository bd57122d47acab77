//! The service's Prometheus metrics (`GET /metrics`).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Label of `embolint_decisions_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct VerdictLabel {
    /// `pass`, `fail` or `invalid`.
    pub verdict: String,
}

/// Labels of `embolint_findings_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FindingLabels {
    /// The rule id.
    pub rule: String,
    /// `error`, `warning` or `info`.
    pub severity: String,
}

/// Labels of `embolint_build_info`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BuildLabels {
    /// embolint's version.
    pub version: String,
    /// The rule set's id.
    pub rule_set: String,
    /// The rule set's version.
    pub rule_set_version: String,
}

/// Every metric the service exports.
#[derive(Debug)]
pub struct Metrics {
    /// What `/metrics` renders.
    registry: Registry,
    /// Decision records written since start, by verdict.
    pub decisions: Family<VerdictLabel, Counter>,
    /// Findings in those records, by rule and severity.
    pub findings: Family<FindingLabels, Counter>,
    /// Time to judge one plan (dry runs and recorded plans), in seconds.
    pub check_seconds: Histogram,
    /// Plans in the inbox not yet judged.
    pub inbox_plans: Gauge,
    /// 1 while the patient history can be used, else 0.
    pub history_usable: Gauge,
    /// 1, labelled with the version and the rule set in force.
    pub build_info: Family<BuildLabels, Gauge>,
}

impl Metrics {
    /// All metrics, registered, at zero.
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let decisions = Family::<VerdictLabel, Counter>::default();
        let findings = Family::<FindingLabels, Counter>::default();
        let buckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1];
        let check_seconds = Histogram::new(buckets);
        let inbox_plans = Gauge::default();
        let history_usable = Gauge::default();
        let build_info = Family::<BuildLabels, Gauge>::default();
        registry.register("embolint_decisions", "Decision records written", decisions.clone());
        registry.register("embolint_findings", "Findings in decision records", findings.clone());
        registry.register("embolint_check_seconds", "Time to judge a plan", check_seconds.clone());
        registry.register(
            "embolint_inbox_plans",
            "Plans waiting in the inbox",
            inbox_plans.clone(),
        );
        registry.register(
            "embolint_history_usable",
            "1 while the patient history can be used",
            history_usable.clone(),
        );
        registry.register(
            "embolint_build_info",
            "Version and rule set in force",
            build_info.clone(),
        );
        Metrics {
            registry,
            decisions,
            findings,
            check_seconds,
            inbox_plans,
            history_usable,
            build_info,
        }
    }

    /// Counts a new decision record.
    pub fn count_record(&self, record: &super::index::NewRecord) {
        self.decisions.get_or_create(&VerdictLabel { verdict: record.verdict.clone() }).inc();
        for (rule, severity) in &record.findings {
            let labels = FindingLabels { rule: rule.clone(), severity: severity.clone() };
            self.findings.get_or_create(&labels).inc();
        }
        if let Some(us) = record.elapsed_us {
            self.check_seconds.observe(us as f64 / 1e6);
        }
    }

    /// The text format Prometheus scrapes.
    pub fn render(&self) -> String {
        let mut text = String::new();
        if prometheus_client::encoding::text::encode(&mut text, &self.registry).is_err() {
            text.clear();
        }
        text
    }
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}
