"""Treatment planning and delivery rules: RNR plan proposals, risk-prioritised waiting lists,
earned remission (time credits) and programme fidelity.

Pure Python (no Django): the Django treatment app gives these functions plain values and
stores what they return. Every explanation is a :class:`Reason` (a code and parameters) that
the app translates; ``REASON_CODES`` lists them all. The rules, formulas, file formats and
worked examples are in ``docs/treatment-rules.md``.
"""

from whatworks.analytics.treatment import fidelity, remission, rnr, waitlist
from whatworks.analytics.treatment.common import (
    ADAPTATIONS,
    EDUCATION_AND_WORK_TYPES,
    EDUCATION_LEVELS,
    EVIDENCE_RATINGS,
    LITERACY_LEVELS,
    NEED_DOMAINS,
    NOT_RECORDED,
    PROGRAMME_TYPES,
    RISK_BANDS,
    STATIC_DOMAINS,
    SUPPORT_NEEDS,
    Reason,
)
from whatworks.analytics.treatment.fidelity import (
    Checklist,
    ChecklistError,
    FidelityAnswerError,
    FidelityResult,
    checklist_from_mapping,
    fidelity_band,
    list_checklists,
    load_checklist,
    score_checklist,
)
from whatworks.analytics.treatment.remission import (
    Fault,
    LevelCompletion,
    RemissionLine,
    RemissionResult,
    RemissionRules,
    RemissionRulesError,
    StudyRecord,
    WorkRecord,
    compute_remission,
    list_remission_rules,
    load_remission_rules,
    projected_release,
    remission_rules_from_mapping,
)
from whatworks.analytics.treatment.rnr import (
    DosagePolicy,
    ExcludedOption,
    NeedScore,
    PersonProfile,
    PlanProposal,
    ProgrammeOption,
    ProposedItem,
    propose_plan,
)
from whatworks.analytics.treatment.waitlist import (
    RankedCandidate,
    WaitlistCandidate,
    WaitlistWeights,
    rank_waitlist,
)

# Every Reason code any function here can return; the Django layer has a translation for each.
REASON_CODES = (
    *rnr.REASON_CODES,
    *waitlist.REASON_CODES,
    *remission.REASON_CODES,
)

__all__ = [
    "ADAPTATIONS",
    "EDUCATION_AND_WORK_TYPES",
    "EDUCATION_LEVELS",
    "EVIDENCE_RATINGS",
    "LITERACY_LEVELS",
    "NEED_DOMAINS",
    "NOT_RECORDED",
    "PROGRAMME_TYPES",
    "REASON_CODES",
    "RISK_BANDS",
    "STATIC_DOMAINS",
    "SUPPORT_NEEDS",
    "Checklist",
    "ChecklistError",
    "DosagePolicy",
    "ExcludedOption",
    "Fault",
    "FidelityAnswerError",
    "FidelityResult",
    "LevelCompletion",
    "NeedScore",
    "PersonProfile",
    "PlanProposal",
    "ProgrammeOption",
    "ProposedItem",
    "RankedCandidate",
    "Reason",
    "RemissionLine",
    "RemissionResult",
    "RemissionRules",
    "RemissionRulesError",
    "StudyRecord",
    "WaitlistCandidate",
    "WaitlistWeights",
    "WorkRecord",
    "checklist_from_mapping",
    "compute_remission",
    "fidelity",
    "fidelity_band",
    "list_checklists",
    "list_remission_rules",
    "load_checklist",
    "load_remission_rules",
    "projected_release",
    "propose_plan",
    "rank_waitlist",
    "remission",
    "remission_rules_from_mapping",
    "rnr",
    "score_checklist",
    "waitlist",
]
