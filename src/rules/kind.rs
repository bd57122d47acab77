//! The rule kinds: each kind's name in the rule file tied to the type that
//! reads its parameters and checks a plan.

use super::loader::LoadError;
use super::params::Params;
use super::{
    acknowledgement, anatomy, care, dose, embolic, revision, schedule, sedation, Context,
    ResolvedPlan,
};
use crate::names::Names;
use crate::verdict::Finding;

/// What every rule kind does.
pub(super) trait RuleKind: Sized {
    /// Takes the kind's parameters out of a rule entry, checking each;
    /// `names` canonicalises the drug and agent names they mention.
    fn from_params(params: &mut Params, names: &Names) -> Result<Self, LoadError>;

    /// The plan's findings (empty: the rule passes), or `None` when the rule
    /// cannot apply to this plan at all.
    fn evaluate(&self, plan: &ResolvedPlan, context: &Context) -> Option<Vec<Finding>>;

    /// The parameters in one readable line.
    fn summary(&self) -> String;
}

macro_rules! kinds {
    ($($name:literal => $variant:ident($ty:ty),)*) => {
        /// A rule's kind with its parameters: what the rule checks.
        #[derive(Clone, Debug, serde::Serialize)]
        #[serde(untagged)]
        pub enum Check {
            $(
                #[doc = concat!("Kind `", $name, "`.")]
                $variant($ty),
            )*
        }

        /// Every kind's name, for the error about an unknown kind.
        pub(super) const KIND_NAMES: &[&str] = &[$($name),*];

        impl Check {
            /// Reads the parameters of a rule of kind `kind`; `None` for a
            /// kind this version does not know.
            pub(super) fn from_params(
                kind: &str,
                params: &mut Params,
                names: &Names,
            ) -> Option<Result<Check, LoadError>> {
                match kind {
                    $($name => Some(<$ty>::from_params(params, names).map(Check::$variant)),)*
                    _ => None,
                }
            }

            /// The kind's name, as the rule file writes it.
            pub fn kind(&self) -> &'static str {
                match self {
                    $(Check::$variant(_) => $name,)*
                }
            }

            /// Checks a plan: its findings, or `None` when not applicable.
            pub(super) fn evaluate(&self, plan: &ResolvedPlan, context: &Context) -> Option<Vec<Finding>> {
                match self {
                    $(Check::$variant(check) => check.evaluate(plan, context),)*
                }
            }

            /// The parameters in one readable line.
            pub fn summary(&self) -> String {
                match self {
                    $(Check::$variant(check) => check.summary(),)*
                }
            }
        }
    };
}

kinds! {
    "spinal-mapping-required" => SpinalMappingRequired(anatomy::SpinalMappingRequired),
    "spinal-feeder-excluded" => SpinalFeederExcluded(anatomy::SpinalFeederExcluded),
    "artery-dose-max" => ArteryDoseMax(dose::ArteryDoseMax),
    "session-dose-max" => SessionDoseMax(dose::SessionDoseMax),
    "session-dose-min" => SessionDoseMin(dose::SessionDoseMin),
    "unknown-drug" => UnknownDrug(dose::UnknownDrug),
    "artery-count" => ArteryCount(embolic::ArteryCount),
    "particle-size-min" => ParticleSizeMin(embolic::ParticleSizeMin),
    "particle-size-protocol" => ParticleSizeProtocol(embolic::ParticleSizeProtocol),
    "embolic-agent" => EmbolicAgent(embolic::EmbolicAgent),
    "session-spacing" => SessionSpacing(schedule::SessionSpacing),
    "course-length" => CourseLength(schedule::CourseLength),
    "follow-up" => FollowUp(schedule::FollowUp),
    "sedation-dose-max" => SedationDoseMax(care::SedationDoseMax),
    "sedation-protocol" => SedationProtocol(sedation::SedationProtocol),
    "post-procedure-care" => PostProcedureCare(care::PostProcedureCare),
    "eligibility" => Eligibility(care::Eligibility),
    "plan-revision" => PlanRevision(revision::PlanRevision),
    "acknowledgement-refused" => AcknowledgementRefused(acknowledgement::AcknowledgementRefused),
    "acknowledgement-unused" => AcknowledgementUnused(acknowledgement::AcknowledgementUnused),
}
