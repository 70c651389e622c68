"""Enumerations of the core records. Values are stable codes; labels are translated."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class FacilityType(models.TextChoices):
    CLOSED = "closed", _("Closed")
    SEMI_OPEN = "semi_open", _("Semi-open")
    OPEN = "open", _("Open")
    COMMUNITY_OFFICE = "community_office", _("Community office")


class SecurityLevel(models.TextChoices):
    MAXIMUM = "maximum", _("Maximum")
    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")
    LOW = "low", _("Low")
    MINIMUM = "minimum", _("Minimum")


class PopulationSex(models.TextChoices):
    MALE = "male", _("Men")
    FEMALE = "female", _("Women")
    MIXED = "mixed", _("Mixed")


class Sex(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")
    INTERSEX = "intersex", _("Intersex")
    NOT_RECORDED = "not_recorded", _("Not recorded")


class Gender(models.TextChoices):
    MAN = "man", _("Man")
    WOMAN = "woman", _("Woman")
    TRANS_MAN = "trans_man", _("Trans man")
    TRANS_WOMAN = "trans_woman", _("Trans woman")
    NON_BINARY = "non_binary", _("Non-binary")
    NOT_RECORDED = "not_recorded", _("Not recorded")


class Literacy(models.TextChoices):
    LITERATE = "literate", _("Reads and writes")
    LIMITED = "limited", _("Limited literacy")
    ILLITERATE = "illiterate", _("Cannot read or write")
    NOT_RECORDED = "not_recorded", _("Not recorded")


class EducationLevel(models.TextChoices):
    """Highest level of schooling completed; the order matters (education levelling)."""

    NONE = "none", _("No schooling")
    PRIMARY_INCOMPLETE = "primary_incomplete", _("Primary, not completed")
    PRIMARY = "primary", _("Primary completed")
    SECONDARY_INCOMPLETE = "secondary_incomplete", _("Secondary, not completed")
    SECONDARY = "secondary", _("Secondary completed")
    TERTIARY = "tertiary", _("Higher education")
    NOT_RECORDED = "not_recorded", _("Not recorded")


class SupportNeed(models.TextChoices):
    LEARNING_DISABILITY = "learning_disability", _("Learning disability")
    INTELLECTUAL_DISABILITY = "intellectual_disability", _("Intellectual disability")
    HEARING = "hearing", _("Hearing impairment")
    VISUAL = "visual", _("Visual impairment")
    MOBILITY = "mobility", _("Mobility impairment")
    MENTAL_HEALTH = "mental_health", _("Mental health condition")
    NEURODIVERGENT = "neurodivergent", _("Neurodivergent")


class AdmissionType(models.TextChoices):
    REMAND = "remand", _("Remand")
    SENTENCED = "sentenced", _("Sentenced committal")
    RECALL = "recall", _("Recall or revocation")
    TRANSFER_IN = "transfer_in", _("Transfer from another jurisdiction")


class LegalStatus(models.TextChoices):
    REMAND = "remand", _("Remand")
    SENTENCED = "sentenced", _("Sentenced")


class OffenceCategory(models.TextChoices):
    THEFT = "theft", _("Theft")
    ROBBERY = "robbery", _("Robbery")
    BURGLARY = "burglary", _("Burglary")
    DRUG_TRAFFICKING = "drug_trafficking", _("Drug trafficking")
    DRUG_POSSESSION = "drug_possession", _("Drug possession")
    HOMICIDE = "homicide", _("Homicide")
    ASSAULT = "assault", _("Assault")
    SEXUAL_OFFENCE = "sexual_offence", _("Sexual offence")
    DOMESTIC_VIOLENCE = "domestic_violence", _("Domestic violence")
    FRAUD = "fraud", _("Fraud")
    FIREARMS = "firearms", _("Firearms offence")
    OTHER = "other", _("Other")


class ReleaseType(models.TextChoices):
    END_OF_SENTENCE = "end_of_sentence", _("End of sentence")
    PAROLE = "parole", _("Parole or conditional release")
    PARDON = "pardon", _("Pardon")
    TRANSFER = "transfer", _("Transfer to another jurisdiction")
    DEATH = "death", _("Death")
    ESCAPE = "escape", _("Escape")
    OTHER = "other", _("Other")


class MovementKind(models.TextChoices):
    ADMISSION = "admission", _("Admission")
    TRANSFER = "transfer", _("Transfer")
    RELEASE = "release", _("Release")


class TransferReason(models.TextChoices):
    SECURITY = "security", _("Security")
    OVERCROWDING = "overcrowding", _("Overcrowding")
    COURT = "court", _("Court proceedings")
    FAMILY_PROXIMITY = "family_proximity", _("Closer to family")
    HEALTH = "health", _("Health care")
    PROGRESSION_TO_SEMI_OPEN = "progression_to_semi_open", _("Progression to semi-open")
    PROGRESSION_TO_OPEN = "progression_to_open", _("Progression to open")
    PROGRAMME = "programme", _("Programme or education")
    OTHER = "other", _("Other")


def movement_reason_label(reason: str) -> str:
    """The translated label of a coded movement reason; free text is shown as written.

    Admissions record their admission type and releases their release type as the reason.
    """
    for choices in (TransferReason, AdmissionType, ReleaseType):
        if reason in choices.values:
            return str(choices(reason).label)
    return reason


class OutcomeEventType(models.TextChoices):
    REARREST = "rearrest", _("Rearrest")
    CHARGE = "charge", _("Charge")
    RECONVICTION = "reconviction", _("Reconviction")
    REINCARCERATION = "reincarceration", _("Reincarceration")
    TECHNICAL_VIOLATION = "technical_violation", _("Technical violation")


class OutcomeSource(models.TextChoices):
    POLICE = "police", _("Police")
    PROSECUTION = "prosecution", _("Prosecution service")
    COURT = "court", _("Court")
    PRISON_SERVICE = "prison_service", _("Prison service")
    PROBATION = "probation", _("Probation")


class Pathway(models.TextChoices):
    """The seven resettlement pathways (domain.md §3), shared by release preparation,
    community provider referrals and post-release follow-up."""

    ACCOMMODATION = "accommodation", _("Accommodation")
    EDUCATION_WORK = "education_work", _("Education, skills and work")
    HEALTH = "health", _("Health")
    DRUGS_ALCOHOL = "drugs_alcohol", _("Drugs and alcohol")
    FINANCE_ID = "finance_id", _("Finance, benefits and ID")
    FAMILY = "family", _("Children, families and communities")
    ATTITUDES = "attitudes", _("Attitudes, thinking and behaviour")
