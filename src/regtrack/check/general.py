"""Sentences that are not claims about a product, as rules beside their example sentences
(see `rules`): questions, boilerplate, conditions, hedges, medicines in general, a kind of
authorisation described rather than granted."""

from __future__ import annotations

from .rules import Rule, rule

NOT_CLAIMS: tuple[Rule, ...] = (
    rule("question", r"\?\s*$", ("Why is Nexpovio authorised in the EU?",)),
    rule(
        "boilerplate",
        r"\breproduction\s+is\s+authori[sz]ed\b|\ball\s+rights\s+reserved\b",
        ("Reproduction is authorised provided the source is acknowledged.",),
    ),
    rule(
        "condition",
        r"^\W*(?:if|unless|once|when|whenever|before|for\s+\w+\s+to|in\s+order"
        r"\s+to|normally|typically|usually|generally|in\s+general)\b",
        (
            "If the EMA accepts the MAA for review, the procedure may be completed within a year.",
            "Normally, the licensed drug must then be approved by a UK drug appraisal body.",
            "For NICE to be able to approve a medicine it must provide additional benefits.",
            "Before a drug can be widely used, it must first be licensed.",
        ),
    ),
    # Hedged: "may not be licensed and/or approved" says what might be, of any drug.
    rule(
        "hedged",
        r"\b(?:may|might)\s+(?:not\s+)?(?:yet\s+)?(?:be|have\s+been)\s+(?:\w+\s+)?"
        r"(?:licen[sc]ed|approved|authori[sz]ed|recommended|available)",
        ("The drugs described in the Infosheets may not be licensed and/or approved for use.",),
        ("NICE said it could not be recommended for routine use.",),
    ),
    # Of medicines in general: a status said of "medicines", "treatments", "a medicine".
    rule(
        "medicines_in_general",
        r"\b(?:(?:new(?:ly)?[\s-]+)?(?:licensed|approved|authori[sz]ed|recommended)\s+"
        r"(?:medicines|drugs|treatments|therapies|products)|new(?:ly)?[\s-]+(?:licensed|approved|"
        r"authori[sz]ed)\s+(?:medicine|drug|treatment|therapy|product)\b|\b(?:a|any)\s+(?:new\s+)?"
        r"(?:drug|medicine|medicinal\s+product)\s+(?:can|must|is|may|needs?)\b|(?:medicines|drugs|treatments|"
        r"therapies)\s+(?:need|must|are|recommended|can|may)|(?:approve|assess\w*|evaluat\w*|"
        r"fund|advises\s+on)\s+(?:all\s+)?(?:an?\s+|new\s+)?(?:\w+\s+)?(?:medicines?|treatments?"
        r"|drugs?|therapies)\b|\bto\s+an?\s+medicinal\s+product\b|\ba\s+(?:drug|medicine)\s+"
        r"licensed\b|\b(?:typically|usually)\s+follow\b)",
        (
            "In the UK, treatments need to be further approved before being available in the NHS.",
            "NICE evaluates all new licensed medicines and licence extensions.",
            "A drug licensed under conditional marketing authorisation can follow the UK drug "
            "appraisal process.",
            "It looks at how effective the newly-licensed drug is.",
        ),
        ("Selinexor has been licensed under conditional marketing authorisation.",),
    ),
    # A kind of authorisation described, not granted: "A conditional marketing authorisation
    # is valid for one year", "This conditional marketing authorisation is a procedure".
    rule(
        "a_kind_of_authorisation",
        r"^\W*(?:in\s+[\w\s]{2,20},\s*)?(?:an?|this|such\s+an?|these)?\s*(?:conditional\s+)?"
        r"(?:marketing\s+)?(?:authori[sz]ations?|licen[cs]es?|approvals?)\s+(?:\([A-Z]+\)\s+)?"
        r"(?:in\s+\w+\s+)?(?:is|are|can|may|must|lasts?)\s+(?!currently|now|still)"
        r"(?:(?:a|an|the)\s+(?:procedure|way|route|tool|mechanism)|(?:initially\s+|only\s+)?"
        r"valid|(?:granted|given)\s+(?:to\s+an?\b|when|if|where)|used\b|reviewed\b)",
        (
            "In the UK, conditional marketing authorisations are valid for one year.",
            "This conditional marketing authorisation is a procedure used by the EMA.",
            "A conditional marketing authorisation is granted to a medicinal product that fulfils "
            "an unmet medical need.",
            "Conditional marketing authorisation is given when initial "
            "evidence shows the benefits outweigh the risks.",
        ),
        (
            "A conditional marketing authorization is currently in effect and must be renewed "
            "annually.",
        ),
    ),
)
