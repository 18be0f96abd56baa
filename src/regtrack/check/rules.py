"""The rules of `regtrack check`, as data: each pattern beside sentences it must fire on (and
some it must not). `tests/test_check.py` runs every example, so a rule and its evidence are
changed together. Patterns are case-insensitive unless a rule says otherwise.

A sentence is read in this order: is it a claim at all (questions, conditions and sentences
about medicines in general are not: `general`), which statuses it states (the specific before
the plain: a CHMP recommendation before the words it recommends, "conditional" before
"authorised"), which body each status is about (the nearest named, bodies joined by "and"/"or"
together), and whether it states the status now or tells history (its tense, and the date it
gives).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Regulators and HTA bodies as the verdicts name them.
HTA = ("NICE", "SMC")
REGULATORS = ("EMA", "MHRA", "FDA")


@dataclass(frozen=True)
class Rule:
    """One pattern and the sentences that show it: `fires` must match, `quiet` must not."""

    name: str
    pattern: re.Pattern[str]
    fires: tuple[str, ...] = ()
    quiet: tuple[str, ...] = ()


def rule(name: str, pattern: str, fires: tuple[str, ...] = (), quiet: tuple[str, ...] = (),
         flags: int = re.I) -> Rule:  # fmt: skip
    return Rule(name, re.compile(pattern, flags), fires, quiet)


# -- Bodies: the words that name each body in a sentence.
BODIES: tuple[Rule, ...] = (
    rule(
        "EMA",
        r"\b(?:EMA|CHMP|European\s+Medicines\s+Agency|Committee\s+for\s+Medicinal\s+"
        r"Products\s+for\s+Human\s+Use|European\s+Commission|EU\s+Commission|EC|EU|EEA"
        r"|European\s+Union|Europe|European)\b",
        ("EUROPE has rejected a breakthrough drug.", "The EC granted it."),
    ),
    rule(
        "MHRA",
        r"\b(?:MHRA|Medicines?\s+and\s+Healthcare\s+products\s+Regulatory\s+Agency|UK"
        r"|United\s+Kingdom|Great\s+Britain|Britain)\b",
        ("licensed by the UK's MHRA",),
    ),
    rule(
        "FDA",
        r"\b(?:FDA|Food\s+and\s+Drug\s+Administration|(?:US|USA|U\.S\.|United\s+States)"
        r"(?!\s+(?:National|Department|Government|Congress|Senate|President|Army|Navy|NIH|CDC"
        r"|Centers)\b))(?![\w])",
        ("approved by the US Food and Drug Administration",),
        ("The trial was run by the US National Institute of Allergy and Infectious Diseases.",),
    ),
    rule(
        "NICE",
        r"\b(?:NICE|National\s+Institute\s+for\s+Health\s+and\s+Care\s+Excellence"
        r"|England)\b",
        ("NICE recommended it",),
    ),
    rule(
        "SMC",
        r"\b(?:SMC|Scottish\s+Medicines\s+Consortium|Scotland|NHSScotland)\b",
        ("accepted by the Scottish Medicines Consortium",),
    ),
)
#: The NHS: a claim of availability "on the NHS" is about the HTA bodies, not the licence.
NHS = re.compile(r"\bNHS\b|\bNHSScotland\b|\bNHS\s+England\b")
#: A regulator named outright (not through a country): it keeps a claim the NHS would move.
NAMED_REGULATOR = re.compile(r"\b(?:MHRA|EMA|FDA|CHMP|European\s+Commission|Medicines\s+and"
                             r"\s+Healthcare|European\s+Medicines\s+Agency|Food\s+and\s+Drug)\b",
                             re.I)  # fmt: skip

_NOT = r"(?:not|n't|never|yet\s+to\s+be|still\s+not)"
_AUTH = r"(?:authori[sz]\w*|licen[sc]\w*|approv\w*|\bMA\b|\bCMA\b|marketing\s+approval)"
_MA = r"(?:marketing\s+)?(?:authori[sz]ation|approval|licen[cs]e|MA\b)"

# -- Claims: (name, pattern) in order of precedence. A match inside the span of a match
# before it in this list is part of it ("conditional" inside "converted from conditional to
# full"; the statuses a CHMP recommendation names).
CLAIMS: tuple[Rule, ...] = (
    # A recommendation by the CHMP or EMA names what it recommends: the span runs to the
    # clause's end, so the statuses it names are its content, not claims of their own.
    rule(
        "opinion_negative",
        r"\b(?:negative\s+opinion|recommend\w*\s+(?:the\s+)?(?:refus\w+|against|not\s+"
        r"(?:to\s+)?(?:grant|renew|approv|authori))[^;:]*|recommend\w*\s+that\b[^;:]*?\b(?:be|"
        r"should\s+be)\s+(?:withdrawn|revoked|suspended|refused|not\s+\w+)[^;:]*|recommend\w*"
        r"\b[^;:]{0,60}?\bshould\s+not\s+be\s+(?:licensed|approved|authori[sz]ed)[^;:]*"
        r"|\b(?:has|have)\s+rejected\b|\brejected\b|\bturned\s+down\b)",
        (
            "The European Medicines Agency is recommending that Adakveo be withdrawn from the "
            "EU market.",
            "It recommended the drug should not be licensed.",
            "EUROPE has rejected a breakthrough Alzheimer's drug.",
            "The CHMP adopted a negative opinion, recommending the refusal of the marketing "
            "authorisation.",
        ),
    ),
    rule(
        "opinion_positive",
        r"\b(?:positive\s+opinion|recommend\w*\s+(?:on\s+[\w\s]{4,20}?\s+)?(?:the\s+)?(?:grant\w*"
        r"|approv\w*|authoris\w*|(?:a\s+)?(?:full|standard|conditional|permanent)|for\s+approval"
        r"|that\b)[^;:]*"
        r"|up\s+to\s+the\s+(?:European\s+)?Commission\b[^;:]*|(?:European\s+)?Commission\s+"
        r"(?:is|are)\s+(?:now\s+)?expected\s+to\s+(?:decide|grant|approve|issue|follow)[^;:]*"
        r"|awaiting\s+(?:a\s+|the\s+)?(?:final\s+)?(?:European\s+)?Commission\b[^;:]*"
        r"|(?:will|to)\s+(?:now\s+)?be\s+sent\s+to\s+the\s+(?:European\s+)?Commission)",
        (
            "Now, the EMA has recommended granting a conditional marketing authorisation.",
            "It is now up to the European Commission to grant Paxlovid conditional marketing "
            "authorisation.",
            "The CHMP adopted a positive opinion on 17 December 2015.",
            "The European Commission is expected to decide within 67 days.",
            "The CHMP recommended on 16 September 2022 that the authorisations be converted.",
        ),
        ("NICE recommended selinexor only if the company provides it at a discount.",),
    ),
    rule(
        "under_review",
        r"\b(?:under\s+(?:review|evaluation|assessment)|being\s+(?:reviewed|assessed|"
        r"evaluated)|accepted\s+(?:it\s+)?for\s+review|(?:started|starts|begun|began|start)\s+"
        r"(?:its\s+|a\s+|the\s+)?(?:rolling\s+)?(?:evaluat\w*|review\w*|assess\w*)"
        r"|(?:received|submitted|submission\s+of|filed|validated)\s+(?:an?\s+|the\s+|its\s+)?"
        r"(?:conditional\s+)?(?:marketing\s+authori[sz]ation\s+)?application"
        r"|(?:marketing\s+authori[sz]ation\s+application|\bMAA\b)\s+(?:was|has\s+been|is)\s+"
        r"(?:submitted|accepted|validated|filed)|\bif\s+(?:it\s+is\s+)?approved\b|\bawaiting\b)",
        (
            "EMA has started evaluating an application for marketing authorisation.",
            "The EMA has confirmed it has accepted for review the application.",
            "Eisai announced the submission of a marketing authorisation application.",
        ),
        ("The application was withdrawn.",),
    ),
    rule(
        "not_appraised",
        rf"\b{_NOT}\s+(?:yet\s+)?(?:been\s+)?(?:appraised|assessed|evaluated)|\bno\s+"
        r"(?:NICE|SMC)?\s*(?:appraisal|advice)",
        ("Selinexor has not been appraised by NICE.",),
    ),
    rule(
        "not_available_nhs",
        rf"\b{_NOT}\s+(?:yet\s+)?(?:widely\s+|currently\s+|routinely\s+)*available\b",
        ("It is not currently available for use in myeloma in the UK.",),
    ),
    rule(
        "not_recommended",
        rf"\b{_NOT}\s+(?:been\s+)?(?:recommended|accepted)|\b(?:does|did)\s+not\s+recommend"
        r"|\bdoesn't\s+recommend",
        ("NICE does not recommend it.",),
    ),
    rule(
        "not_licensed",
        rf"\b{_NOT}\s+(?:yet\s+)?(?:been\s+)?(?:licen[sc]ed|authori[sz]ed|approved)|\bunlicen"
        rf"[sc]ed\b|\b(?:does|did)\s+not\s+(?:yet\s+)?have\s+(?:an?\s+|the\s+)?{_MA}|\bno\s+"
        rf"{_MA}",
        (
            "The drug does not yet have marketing approval in Europe.",
            "Selinexor is unlicensed in the United States.",
        ),
    ),
    rule(
        "application_withdrawn",
        r"\bwithdr[ae]w\w*\s+(?:its\s+|the\s+|an?\s+|their\s+)?(?:marketing\s+authori[sz]ation\s+)?"
        r"application|\bapplication\s+(?:\w+\s+){0,4}?(?:was|has\s+been|had\s+been)\s+withdrawn",
        (
            "The company withdrew its application.",
            "The application for Aduhelm has been withdrawn.",
        ),
    ),
    rule(
        "withdrawn",
        r"\b(?:withdr[ae]w\w*|revok\w*|revocation|not\s+(?:to\s+)?renew\w*|non-?renewal"
        r"|no\s+longer\s+(?:valid|authori[sz]ed|licensed|approved|available)|lapsed|expired"
        r"|suspend\w*|suspension)\b",
        (
            "The European Commission issued a decision to not renew the conditional marketing "
            "authorisation.",
            "The EMA has officially revoked its conditional marketing authorization.",
            "The marketing authorisation is no longer valid.",
        ),
    ),
    rule(
        "full",
        rf"\b(?:switch\w*|convert\w*|conversion)\b[^;:]{{0,60}}?\b(?:full|standard|"
        rf"unconditional|regular)\b[^;:]{{0,20}}?{_AUTH}|\b(?:full|standard|unconditional|"
        rf"permanent)\s+(?:\d+-year\s+)?(?:\w+\s+)?{_MA}|\b\d+-year\s+standard\b|\bno\s+longer"
        r"\s+conditional\b",
        (
            "Vaxzevria was then granted a 5-year standard MA on 31 October 2022.",
            "It was switched from conditional to full authorisation on 18 July 2022.",
            "The EMA has now granted a full marketing authorisation.",
        ),
    ),
    rule(
        "conditional",
        r"\bconditional(?:ly)?['’\"]?\s+(?:marketing\s+)?(?:authori[sz]|licen|approv|MA\b|CMA\b)"
        r"|\bCMA\b|\baccelerated\s+approval\b|\b(?:licen[cs]e|authori[sz]ation|approval)\s+is\s+"
        r"(?:still\s+)?conditional\b|\bconditional\s+basis\b",
        (
            "Zynteglo has been given 'conditional authorisation'.",
            "Its EU licence is conditional.",
            "A conditional marketing authorisation (CMA) has been granted.",
        ),
    ),
    rule(
        "recommended_restricted",
        r"\brecommended\b.{0,80}\b(?:only\s+if|with\s+restrictions?|restricted)\b|\baccepted\b"
        r".{0,40}?\b(?:for\s+restricted\s+use|on\s+an\s+interim\s+basis)\b",
        ("NICE recommended selinexor only if the company provides it at a discount.",),
    ),
    rule(
        "recommended",
        r"\b(?:is|are|was|been|has\s+been)\s+recommended\b|\baccepted\b.{0,40}?\bfor\s+(?:use|the"
        r"\s+treatment)\b|\brecommends?\b|\bmade\s+available\s+on\s+the\s+NHS\b",
        ("Selinexor is recommended by NICE.",),
    ),
    rule(
        "authorised",
        rf"\b(?:licen[sc]ed|authori[sz]ed|approved|cleared\s+for\s+marketing)\b|\b(?:granted|"
        rf"received|receive|given)\b[^;:]{{0,40}}?\b{_MA}|\b{_MA}\s+(?:covers|is\s+valid)\b"
        r"|\bapproval\s+(?:from|by)\b|\bavailable\s+for\s+use\s+in\s+(?:Europe|the\s+EU"
        r"|the\s+European\s+Union)",
        (
            "Marketing Authorisation covers all 27 European Union member states.",
            "The European Commission has granted a new sickle cell drug authorisation.",
            "niQure announced it has received approval from the European Commission.",
        ),
    ),
)

#: What a regulator's words mean when said of an HTA body ("not approved by NICE").
FOR_HTA = {"not_licensed": "not_recommended", "authorised": "recommended",
           "conditional": None, "full": None, "withdrawn": None, "under_review": None,
           "opinion_positive": None, "opinion_negative": None,
           "application_withdrawn": None}  # fmt: skip
#: Claims only an HTA body makes.
HTA_ONLY = {"not_appraised", "not_available_nhs", "not_recommended", "recommended",
            "recommended_restricted"}  # fmt: skip
