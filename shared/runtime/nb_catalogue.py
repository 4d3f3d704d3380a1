"""Bokmål for the services' refusal texts (English API text → what KE staff read): see
``shared.runtime.nb``. Keys are the exact English texts, placeholders as in the f-string that
makes them; values keep every placeholder. ``tests/unit/test_nb_texts.py`` keeps it complete."""

# ruff: noqa: E501

MESSAGES: dict[str, str] = {
    # services/assignment/handlers/cases.py:384
    "the case is closed": "saken er avsluttet",
    # services/assignment/handlers/cases.py:384
    "is closed in intake": "er avsluttet i tjenesten intake",
    # services/assignment/handlers/cases.py:386
    "the KE has decided against a coordinator for this case": "KE har besluttet at saken ikke skal ha koordinator",
    # services/assignment/handlers/cases.py:386
    "a decision that grants a coordinator comes first (R4)": "først må det foreligge en beslutning om å oppnevne koordinator (R4)",
    # services/assignment/handlers/cases.py:393
    "the case already has a coordinator": "saken har allerede en koordinator",
    # services/assignment/handlers/cases.py:393
    "has a coordinator; a change is a planned handover with overlap (R11)": "har en koordinator; bytte av koordinator skjer som en planlagt overføring med overlapp (R11)",
    # services/assignment/handlers/cases.py:431
    "the case has no coordinator to hand over from": "saken har ingen koordinator som kan overføre ansvaret",
    # services/assignment/handlers/cases.py:431
    "appoint a first coordinator instead": "oppnevn en første koordinator i stedet",
    # services/assignment/handlers/cases.py:442
    "the handover was not planned": "overføringen ble ikke planlagt",
    # services/assignment/handlers/cases.py:442
    "is already the case's coordinator": "er allerede koordinator i saken",
    # services/assignment/handlers/cases.py:588
    "no such handover": "overføringen finnes ikke",
    # services/assignment/handlers/cases.py:588
    "is not a handover here": "er ikke en overføring her",
    # services/assignment/handlers/cases.py:592
    "the handover cannot be cancelled": "overføringen kan ikke avlyses",
    # services/assignment/handlers/cases.py:592
    "is {h.status}": "har status {h.status}",
    # services/assignment/handlers/cases.py:633
    "the case has no coordinator": "saken har ingen koordinator",
    # services/assignment/handlers/cases.py:633
    "has no coordinator to release": "har ingen koordinator som kan fritas",
    # services/assignment/handlers/cases.py:647
    "a handover is already planned": "en overføring er allerede planlagt",
    # services/assignment/handlers/cases.py:647
    "a successor is already planned; the case does not need a new one": "en ny koordinator er allerede planlagt; saken trenger ikke enda en",
    # services/assignment/handlers/cases.py:321
    "the kind of coordinator cannot change during coordination": "typen koordinator kan ikke endres mens koordineringen pågår",
    # services/assignment/handlers/cases.py:321
    "coordination runs as {case.kind}; it changes only in a new episode": "koordineringen er av typen {case.kind}; den kan bare endres i en ny koordineringsperiode",
    # services/assignment/handlers/cases.py:370
    "no such case": "saken finnes ikke",
    # services/assignment/handlers/cases.py:370
    "unknown case": "ukjent sak",
    # services/assignment/handlers/common.py:106
    "assignment does not know this case": "tjenesten assignment kjenner ikke til denne saken",
    # services/assignment/handlers/common.py:106
    "no coordinator consent has reached assignment for this case (R5); if it was just recorded, try again in a moment": "tjenesten assignment har ikke mottatt samtykke til koordinator i denne saken (R5); er det nettopp registrert, prøv igjen om litt",
    # services/assignment/handlers/common.py:119
    "no such coordinator": "koordinatoren finnes ikke",
    # services/assignment/handlers/common.py:119
    "is not in the coordinator registry": "finnes ikke i koordinatorregisteret",
    # services/assignment/handlers/common.py:245
    "this kind of coordinator is not possible here": "denne typen koordinator er ikke mulig her",
    # services/assignment/handlers/common.py:260
    "the coordinator cannot be appointed": "koordinatoren kan ikke oppnevnes",
    # services/assignment/handlers/common.py:260
    "is not active in the coordinator registry": "er ikke aktiv i koordinatorregisteret",
    # services/assignment/handlers/common.py:267
    "is not health personnel; a hospital coordinator must be (R17)": "er ikke helsepersonell, som en koordinator i sykehus må være (R17)",
    # services/assignment/handlers/common.py:276
    "the coordinator is at their caseload limit": "koordinatoren har nådd grensen for saksmengde",
    # services/assignment/handlers/common.py:276
    "has {c.caseload} cases and a limit of {limit} (R10); appoint anyway only with override_limit and an override_reason": "har {c.caseload} saker, og grensen er {limit} (R10); oppnevn likevel bare med override_limit og en override_reason",
    # services/assignment/handlers/reads.py:207
    "say whose duties": "oppgi hvem oppgavene gjelder",
    # services/assignment/handlers/reads.py:207
    "give case_id or coordinator_id": "oppgi case_id eller coordinator_id",
    # services/assignment/handlers/reads.py:233
    "no such duty": "oppgaven finnes ikke",
    # services/assignment/handlers/reads.py:233
    "is not a duty here": "er ikke en oppgave her",
    # services/assignment/handlers/reads.py:235
    "the duty is already done": "oppgaven er allerede utført",
    # services/assignment/handlers/reads.py:235
    "was done {duty.done_at:%Y-%m-%d}": "ble utført {duty.done_at:%Y-%m-%d}",
    # services/assignment/handlers/reads.py:239
    "say what the mapping found": "oppgi hva kartleggingen viste",
    # services/assignment/handlers/reads.py:239
    "whether the person has children under 18 as next of kin, whether siblings need follow-up, and whether that is arranged (R12)": "om personen har barn under 18 år som pårørende, om søsken trenger oppfølging, og om dette er ivaretatt (R12)",
    # services/assignment/handlers/reads.py:247
    "only the mapping of children has a result": "bare kartleggingen av barn har et resultat",
    # services/assignment/handlers/reads.py:247
    "this duty is {duty.kind}, not map_children": "denne oppgaven er {duty.kind}, ikke map_children",
    # services/assignment/handlers/registry.py:160
    "is in the future: record the training when it is completed (R9)": "er fram i tid: registrer opplæringen når den er fullført (R9)",
    # services/assignment/handlers/registry.py:191
    "coordinator was not changed": "koordinatoren ble ikke endret",
    # services/assignment/handlers/registry.py:191
    "they coordinate {len(serving)} case(s) as hospital coordinator, which must be health personnel (R17): hand those over first": "vedkommende er koordinator i sykehus i {len(serving)} sak(er), og det krever helsepersonell (R17): overfør dem først",
    # services/assignment/handlers/registry.py:230
    "the coordinator is already inactive": "koordinatoren er allerede inaktiv",
    # services/assignment/handlers/registry.py:230
    "is inactive": "er inaktiv",
    # services/assignment/handlers/registry.py:279
    "the coordinator is already active": "koordinatoren er allerede aktiv",
    # services/assignment/handlers/registry.py:279
    "is active": "er aktiv",
    # services/assignment/handlers/registry.py:97
    "coordinator was not registered": "koordinatoren ble ikke registrert",
    # services/assignment/handlers/registry.py:97
    "is already registered as a coordinator": "er allerede registrert som koordinator",
    # services/consent/handlers/cases.py:118
    "the case could not be looked up now; try again": "saken kunne ikke slås opp nå; prøv igjen",
    # services/consent/handlers/cases.py:113
    "consent was not recorded": "samtykket ble ikke registrert",
    # services/consent/handlers/ending.py:77
    "no such consent": "samtykket finnes ikke",
    # services/consent/handlers/ending.py:83
    "nothing to withdraw": "ingenting å trekke tilbake",
    # services/consent/handlers/ending.py:95
    "consent was not withdrawn": "samtykket ble ikke trukket tilbake",
    # services/consent/handlers/ending.py:80
    "unknown consent": "ukjent samtykke",
    # services/consent/handlers/ending.py:98
    "must be a past time with a timezone offset": "må være et tidspunkt som har vært, med tidssoneforskyvning",
    # services/consent/handlers/record.py:103
    "must include a timezone offset": "må ha med tidssoneforskyvning",
    # services/federation/handlers.py:366
    "not a hospital coordinator": "ikke koordinator i sykehus",
    # services/federation/handlers.py:366
    "not an active coordinator in this hospital's registry: register them first (R17)": "ikke en aktiv koordinator i sykehusets koordinatorregister: registrer vedkommende først (R17)",
    # services/federation/handlers.py:373
    "a hospital coordinator must be health personnel (R17)": "en koordinator i sykehus må være helsepersonell (R17)",
    # services/federation/handlers.py:631
    "no such measure shared with this organisation": "ikke noe slikt tiltak er delt med denne virksomheten",
    # services/federation/handlers.py:631
    "only measures shared with you (your own, as far as the consent allows) can be updated": "bare tiltak som er delt med dere (deres egne, så langt samtykket tillater), kan oppdateres",
    # services/federation/handlers.py:186
    "this instance is not linked to other organisations (set KENETT_FEDERATION_FILE to the file from `kenett federation config`)": "denne installasjonen er ikke koblet til andre virksomheter (sett KENETT_FEDERATION_FILE til filen fra `kenett federation config`)",
    # services/federation/handlers.py:196
    "cannot send to yourself": "kan ikke sende til egen virksomhet",
    # services/federation/handlers.py:196
    "is this organisation": "er denne virksomheten",
    # services/federation/handlers.py:201
    # services/federation/handlers.py:201
    "is not in the federation directory (known: {known})": "finnes ikke i katalogen over samarbeidende virksomheter (kjente: {known})",
    # services/federation/handlers.py:284
    "unknown case link": "ukjent sakskobling",
    # services/federation/handlers.py:284
    "no such link here": "sakskoblingen finnes ikke her",
    # services/federation/handlers.py:359
    "the coordinator registry could not be asked; try again": "koordinatorregisteret kunne ikke spørres; prøv igjen",
    # services/federation/handlers.py:393
    "invalid identity number": "ugyldig fødselsnummer eller D-nummer",
    # services/federation/handlers.py:508
    "the link has no case here yet": "sakskoblingen har ingen sak her ennå",
    # services/federation/handlers.py:508
    "the report of need was not accepted here": "meldingen om behov ble ikke tatt imot her",
    # services/federation/handlers.py:561
    "the coordinator is not in the registry": "koordinatoren finnes ikke i registeret",
    # services/federation/handlers.py:570
    "the proposal is already answered": "forslaget er allerede besvart",
    # services/federation/handlers.py:570
    "answered meanwhile": "besvart i mellomtiden",
    # services/federation/handlers.py:688
    "the case is already being moved": "saken er allerede under flytting",
    # services/federation/handlers.py:688
    "a transfer of this case was sent and not refused": "en flytting av denne saken er sendt og ikke avvist",
    # services/federation/handlers.py:152
    "{path}: the federation file is {self.fed.org}'s, this instance is {ctx.org} (KENETT_ORG)": "{path}: føderasjonsfilen tilhører {self.fed.org}, men denne installasjonen er {ctx.org} (KENETT_ORG)",
    # services/federation/handlers.py:441
    "say which organisation": "oppgi hvilken virksomhet",
    # services/federation/handlers.py:441
    "the link has {len(others)} other parties: {', '.join(others)}": "sakskoblingen har {len(others)} andre parter: {', '.join(others)}",
    # services/federation/handlers.py:451
    "not a party to this case": "ikke part i denne saken",
    # services/federation/handlers.py:451
    "{to} is not a party to the link": "{to} er ikke part i sakskoblingen",
    # services/federation/handlers.py:484
    "no such handover proposal": "forslaget om overføring finnes ikke",
    # services/federation/handlers.py:484
    "no proposal with this id was received here": "ingen forslag med denne id-en er mottatt her",
    # services/federation/handlers.py:491
    "it is {proposal.status}": "det har status {proposal.status}",
    # services/federation/handlers.py:554
    "assignment: {exc.error.message}": "assignment: {exc.error.message}",
    # services/federation/handlers.py:649
    "the person's consent to share with the new municipality is needed (R7)": "personens samtykke til deling med den nye kommunen trengs (R7)",
    # services/federation/handlers.py:649
    "record a sharing consent naming {to} first ({decision.reason})": "registrer først et samtykke til deling som omfatter {to} ({decision.reason})",
    # services/federation/handlers.py:522
    "who takes over?": "hvem tar over?",
    # services/federation/handlers.py:522
    "the case has no coordinator yet: name one from the registry": "saken har ingen koordinator ennå: velg en fra koordinatorregisteret",
    # services/federation/handlers.py:541
    "the case already has another coordinator": "saken har allerede en annen koordinator",
    # services/federation/handlers.py:541
    "plan a handover in assignment first, or leave coordinator_id out": "planlegg først en overføring i assignment, eller utelat coordinator_id",
    # services/intake/domain.py:39
    "must be 11 digits (fødselsnummer or D-nummer)": "må være 11 sifre (fødselsnummer eller D-nummer)",
    # services/intake/domain.py:42
    "FH-nummer is not accepted; use fødselsnummer or D-nummer": "FH-nummer godtas ikke; bruk fødselsnummer eller D-nummer",
    # services/intake/domain.py:44
    "H-nummer is not accepted; use fødselsnummer or D-nummer": "H-nummer godtas ikke; bruk fødselsnummer eller D-nummer",
    # services/intake/domain.py:48
    "check digits do not match (mistyped number?)": "kontrollsifrene stemmer ikke (feil i nummeret?)",
    # services/intake/domain.py:54
    "the birth date it contains is in the future": "fødselsdatoen i nummeret er fram i tid",
    # services/intake/domain.py:52
    "does not contain a valid birth date": "inneholder ikke en gyldig fødselsdato",
    # services/intake/handlers/assessment.py:41
    "case {case.ref} is closed": "sak {case.ref} er avsluttet",
    # services/intake/handlers/assessment.py:32
    "the assessment was not made": "vurderingen ble ikke gjort",
    # services/intake/handlers/common.py:39
    "case {case.ref}: {why}": "sak {case.ref}: {why}",
    # services/intake/handlers/decisions.py:74
    "the decision was not recorded": "vedtaket ble ikke registrert",
    # services/intake/handlers/decisions.py:117
    "no such decision": "vedtaket finnes ikke",
    # services/intake/handlers/decisions.py:162
    "the appeal was not registered": "klagen ble ikke registrert",
    # services/intake/handlers/decisions.py:46
    "is more than 30 days ahead": "er mer enn 30 dager fram i tid",
    # services/intake/handlers/decisions.py:49
    "cannot be before the decision is made": "kan ikke være før vedtaket er fattet",
    # services/intake/handlers/decisions.py:68
    "an IP decision needs an eligibility assessment first (R1)": "et vedtak om individuell plan krever først en vurdering av retten til individuell plan (R1)",
    # services/intake/handlers/decisions.py:120
    "unknown decision": "ukjent vedtak",
    # services/intake/handlers/decisions.py:166
    "a decision on coordinator cannot be appealed (R4)": "en beslutning om koordinator kan ikke påklages (R4)",
    # services/intake/handlers/decisions.py:183
    "is after the appeal was received": "er etter at klagen ble mottatt",
    # services/intake/handlers/decisions.py:204
    "this decision's appeal is registered already (received {earlier.received_on}, appeal {earlier.id})": "klagen på dette vedtaket er allerede registrert (mottatt {earlier.received_on}, klage {earlier.id})",
    # services/intake/handlers/decisions.py:177
    "is in the future": "er fram i tid",
    # services/intake/handlers/decisions.py:191
    "is before the decision ({decided_on})": "er før vedtaket ({decided_on})",
    # services/intake/handlers/offers.py:31
    "the offer was not registered": "tilbudet ble ikke registrert",
    # services/intake/handlers/overview.py:51
    "naive": "mangler tidssone",
    # services/intake/handlers/overview.py:54
    "the cursor is not one this list gave": "markøren er ikke en som denne listen har gitt",
    # services/intake/handlers/overview.py:58
    "use the `next` value of the page before, with the same filters": "bruk `next`-verdien fra forrige side, med de samme filtrene",
    # services/intake/handlers/reports.py:126
    "the report of need was not registered": "meldingen om behov ble ikke registrert",
    # services/intake/handlers/reports.py:269
    "no case with this number": "ingen sak med dette saksnummeret",
    # services/intake/handlers/reports.py:365
    "a closed case is not moved": "en avsluttet sak flyttes ikke",
    # services/intake/handlers/reports.py:118
    "lists the same need twice": "har det samme behovet to ganger",
    # services/intake/handlers/reports.py:123
    "this instance serves {', '.join(served)} only": "denne installasjonen betjener bare {', '.join(served)}",
    # services/intake/handlers/reports.py:272
    "no case {q.case_ref} in {uow.org}": "ingen sak {q.case_ref} i {uow.org}",
    # services/intake/handlers/stats.py:34
    "empty period": "tom periode",
    # services/intake/handlers/stats.py:37
    "is after until": "er etter until",
    # services/notifications/channels/email.py:90
    "e-mail address is empty": "e-postadressen er tom",
    # services/notifications/channels/email.py:92
    "e-mail address must not contain spaces": "e-postadressen kan ikke inneholde mellomrom",
    # services/notifications/channels/email.py:94
    "e-mail address must have exactly one @ sign": "e-postadressen må ha nøyaktig én @",
    # services/notifications/channels/sms.py:39
    "no mobile number given": "mobilnummer er ikke oppgitt",
    # services/notifications/channels/webhook.py:155
    "webhook URL is empty": "webhook-URL-en er tom",
    # services/notifications/channels/webhook.py:157
    "{_MALFORMED} (it contains spaces or control characters)": "{_MALFORMED} (den inneholder mellomrom eller kontrolltegn)",
    # services/notifications/channels/webhook.py:164
    "webhook URL must be absolute (https://host/path)": "webhook-URL-en må være absolutt (https://host/path)",
    # services/notifications/channels/webhook.py:169
    "webhook URL must not contain credentials": "webhook-URL-en kan ikke inneholde brukernavn eller passord",
    # services/notifications/channels/webhook.py:171
    "webhook URL must not contain a fragment (#)": "webhook-URL-en kan ikke inneholde et fragment (#)",
    # services/notifications/channels/webhook.py:174
    "webhook URL has no host": "webhook-URL-en mangler vertsnavn",
    # services/notifications/channels/webhook.py:176
    "{_MALFORMED} (the host is not a valid name or IP address)": "{_MALFORMED} (verten er ikke et gyldig navn eller en gyldig IP-adresse)",
    # services/notifications/handlers.py:914
    "no such notice in this recipient's inbox": "varselet finnes ikke i denne mottakerens innboks",
    # services/notifications/handlers.py:914
    "unknown notice, or another recipient's": "ukjent varsel, eller en annen mottakers",
    # services/notifications/handlers.py:1140
    "no such delivery": "utsendingen finnes ikke",
    # services/notifications/handlers.py:1140
    "unknown delivery": "ukjent utsending",
    # services/notifications/handlers.py:993
    "no such channel": "kanalen finnes ikke",
    # services/notifications/handlers.py:993
    "installed channels: {', '.join(sorted(channels)) or 'none'}": "installerte kanaler: {', '.join(sorted(channels)) or 'none'}",
    # services/notifications/handlers.py:1030
    "the {name} address is not valid": "adressen for {name} er ikke gyldig",
    # services/notifications/handlers.py:1183
    "sweep: invalid request": "periodisk kjøring (sweep): ugyldig forespørsel",
    # services/notifications/handlers.py:1190
    "the sweep failed; it is tried again by itself": "den periodiske kjøringen (sweep) feilet; den prøves igjen automatisk",
    # services/planning/domain.py:161
    "name the service, agency or relation": "oppgi tjenesten, etaten eller relasjonen",
    # services/planning/domain.py:169
    "evaluations are kept in date order": "evalueringer føres i datorekkefølge",
    # services/planning/domain.py:178
    "the plan period ends before it starts": "planperioden slutter før den begynner",
    # services/planning/domain.py:113
    "every measure names who is responsible: the person, a named service or agency, or next of kin (R16)": "hvert tiltak må si hvem som er ansvarlig: personen, en navngitt tjeneste eller etat, eller pårørende (R16)",
    # services/planning/domain.py:183
    "a revision date is before the plan period starts": "en revisjonsdato er før planperioden begynner",
    # services/planning/domain.py:454
    "a plan that is {current} cannot become {to}": "en plan med status {current} kan ikke få status {to}",
    # services/planning/domain.py:459
    "an active plan has goals (R14)": "en aktiv plan må ha mål (R14)",
    # services/planning/domain.py:463
    "an active plan has a plan period (R14)": "en aktiv plan må ha en planperiode (R14)",
    # services/planning/domain.py:476
    "say why the plan is revised": "oppgi hvorfor planen revideres",
    # services/planning/domain.py:478
    "say why the plan closes": "oppgi hvorfor planen avsluttes",
    # services/planning/domain.py:633
    "no measure with this id": "ingen tiltak med denne id-en",
    # services/planning/domain.py:636
    "the measure is not this service's responsibility; the coordinator edits the rest of the plan (R9)": "tiltaket er ikke denne tjenestens ansvar; koordinatoren redigerer resten av planen (R9)",
    # services/planning/domain.py:95
    "the same id is used twice": "samme id er brukt to ganger",
    # services/planning/domain.py:101
    "ids in {section} look like {prefix}1, {prefix}2, ...; leave the id out for a new item": "id-er i {section} ser ut som {prefix}1, {prefix}2, ...; utelat id for et nytt punkt",
    # services/planning/domain.py:121
    "name the service, agency or relation that is responsible (R16)": "oppgi tjenesten, etaten eller relasjonen som er ansvarlig (R16)",
    # services/planning/domain.py:129
    "the evaluation date is before the measure starts": "evalueringsdatoen er før tiltaket begynner",
    # services/planning/domain.py:136
    "the deadline is before the measure starts": "fristen er før tiltaket begynner",
    # services/planning/domain.py:144
    "no goal with this id in the plan": "planen har ikke noe mål med denne id-en",
    # services/planning/domain.py:203
    "no item with this id has been in the plan; leave the id out for a new item": "ingen punkter med denne id-en har vært i planen; utelat id for et nytt punkt",
    # services/planning/domain.py:467
    "an active plan has at least one date for adjustment and revision (R14 point 7)": "en aktiv plan må ha minst én dato for justering og revisjon (R14 punkt 7)",
    # services/planning/domain.py:214
    "recorded evaluations cannot be changed or removed; add a new evaluation instead": "registrerte evalueringer kan ikke endres eller fjernes; legg heller til en ny evaluering",
    # services/planning/domain.py:247
    "an evaluation is recorded by whoever records it: {author}": "en evaluering registreres i navnet til den som registrerer den: {author}",
    # services/planning/domain.py:296
    "{where} has {MAX_EVALUATIONS} evaluations, the most kept": "{where} har {MAX_EVALUATIONS} evalueringer, som er det meste som lagres",
    # services/planning/domain.py:303
    "an evaluation of this item on a later date is already recorded": "en evaluering av dette punktet med senere dato er allerede registrert",
    # services/planning/domain.py:310
    "the next evaluation must come after this one": "neste evaluering må komme etter denne",
    # services/planning/domain.py:318
    "{where} has not started by then": "{where} har ikke begynt på det tidspunktet",
    # services/planning/domain.py:241
    "is before the plan was made ({plan_made})": "er før planen ble laget ({plan_made})",
    # services/planning/handlers/common.py:30
    "no plan for this case": "saken har ingen plan",
    # services/planning/handlers/common.py:30
    "no plan": "ingen plan",
    # services/planning/handlers/common.py:54
    "no such version of the plan": "denne versjonen av planen finnes ikke",
    # services/planning/handlers/common.py:54
    "the plan has versions 1 to {plan.version}": "planen har versjon 1 til {plan.version}",
    # services/planning/handlers/common.py:133
    "the plan has changed since you opened it; reload it and make your change again": "planen er endret siden du åpnet den; hent den på nytt og gjør endringen igjen",
    # services/planning/handlers/common.py:133
    "you edited version {expected}; the plan is now at version {plan.version}": "du redigerte versjon {expected}; planen er nå på versjon {plan.version}",
    # services/planning/handlers/common.py:156
    "only the case's coordinator edits the plan": "bare koordinatoren i saken redigerer planen",
    # services/planning/handlers/common.py:156
    "providers, next of kin and the person take part through the coordinator (R8, R9)": "tjenesteytere, pårørende og personen selv deltar gjennom koordinatoren (R8, R9)",
    # services/planning/handlers/common.py:164
    "this coordinator is not the case's coordinator (R9)": "denne koordinatoren er ikke koordinator i saken (R9)",
    # services/planning/handlers/common.py:176
    "the decision on individual plan refused it": "vedtaket om individuell plan ga avslag",
    # services/planning/handlers/common.py:176
    "until a decision grants an individual plan (R3), only the person and the coordinator read the plan": "inntil et vedtak gir rett til individuell plan (R3), er det bare personen og koordinatoren som kan lese planen",
    # services/planning/handlers/common.py:190
    "only the case's coordinator reads the plan as coordinator": "bare koordinatoren i saken leser planen som koordinator",
    # services/planning/handlers/group.py:102
    "planning knows no such case": "tjenesten planning kjenner ikke til denne saken",
    # services/planning/handlers/group.py:108
    "a member is named by service, agency, relation or coordinator id": "et medlem angis med tjeneste, etat, relasjon eller koordinator-id",
    # services/planning/handlers/group.py:122
    "the period ends before it starts": "perioden slutter før den begynner",
    # services/planning/handlers/group.py:122
    "before from_date": "før from_date",
    # services/planning/handlers/group.py:164
    "no such member in this case's group": "medlemmet finnes ikke i ansvarsgruppen i denne saken",
    # services/planning/handlers/group.py:164
    "unknown member": "ukjent medlem",
    # services/planning/handlers/group.py:178
    "before the member joined": "før medlemmet kom inn i gruppen",
    # services/planning/handlers/group.py:185
    "the membership has already ended": "medlemskapet er allerede avsluttet",
    # services/planning/handlers/group.py:185
    "already ended": "allerede avsluttet",
    # services/planning/handlers/group.py:206
    "no meeting is called for it": "det kalles ikke inn til møter i en avsluttet sak",
    # services/planning/handlers/group.py:208
    "a meeting is called ahead of time": "et møte kalles inn på forhånd",
    # services/planning/handlers/group.py:208
    "in the past": "tilbake i tid",
    # services/planning/handlers/group.py:212
    "the responsibility group has no members on that day": "ansvarsgruppen har ingen medlemmer den dagen",
    # services/planning/handlers/group.py:212
    "add members to the group first (R13)": "legg først til medlemmer i ansvarsgruppen (R13)",
    # services/planning/handlers/group.py:250
    "no such meeting in this case": "møtet finnes ikke i denne saken",
    # services/planning/handlers/group.py:250
    "unknown meeting": "ukjent møte",
    # services/planning/handlers/group.py:258
    "the meeting is {meeting.status}": "møtet har status {meeting.status}",
    # services/planning/handlers/group.py:258
    "minutes are recorded once, for a meeting that was held": "referat registreres én gang, for et møte som er holdt",
    # services/planning/handlers/group.py:265
    "the meeting has not been held yet": "møtet er ikke holdt ennå",
    # services/planning/handlers/group.py:265
    "in the future": "fram i tid",
    # services/planning/handlers/group.py:271
    "not a member of the group": "ikke medlem av ansvarsgruppen",
    # services/planning/handlers/group.py:288
    "the minutes cannot be recorded": "referatet kan ikke registreres",
    # services/planning/handlers/group.py:313
    "only a scheduled meeting is cancelled": "bare et innkalt møte kan avlyses",
    # services/planning/handlers/group.py:346
    "no such task in this case": "oppgaven finnes ikke i denne saken",
    # services/planning/handlers/group.py:346
    "unknown task": "ukjent oppgave",
    # services/planning/handlers/group.py:348
    "the task is already done": "oppgaven er allerede utført",
    # services/planning/handlers/group.py:348
    "already done": "allerede utført",
    # services/planning/handlers/group.py:139
    "the member was not added": "medlemmet ble ikke lagt til",
    # services/planning/handlers/group.py:139
    "is a member of the group already in this period (member {other.id}); end that membership first, or add from after it ends": "er allerede medlem av ansvarsgruppen i denne perioden (medlem {other.id}); avslutt det medlemskapet først, eller legg til fra etter at det slutter",
    # services/planning/handlers/group.py:454
    "the tool is already {cmd.tool}": "koordineringsverktøyet er allerede {cmd.tool}",
    # services/planning/handlers/group.py:454
    "no change": "ingen endring",
    # services/planning/handlers/group.py:279
    "not a member of the group then": "ikke medlem av ansvarsgruppen på det tidspunktet",
    # services/planning/handlers/group.py:283
    "the deadline is before the meeting": "fristen er før møtet",
    # services/planning/handlers/plans.py:175
    "the person chose responsibility-group meetings with minutes (R13); the plan is kept and can be read, and is edited again if they switch back to an individual plan": "personen har valgt ansvarsgruppemøter med referat (R13); planen beholdes og kan leses, og kan redigeres igjen hvis personen går tilbake til individuell plan",
    # services/planning/handlers/plans.py:175
    "the coordination tool is meetings": "koordineringsverktøyet er møter (meetings)",
    # services/planning/handlers/plans.py:201
    "the plan cannot be saved like this": "planen kan ikke lagres slik",
    # services/planning/handlers/plans.py:228
    "the evaluation cannot be recorded": "evalueringen kan ikke registreres",
    # services/planning/handlers/plans.py:246
    "the status cannot be recorded": "statusen kan ikke registreres",
    # services/planning/handlers/plans.py:263
    "the plan cannot become {cmd.to}": "planen kan ikke få status {cmd.to}",
    # services/planning/handlers/plans.py:142
    "only the measure's responsible service reports its status this way": "bare tjenesten som er ansvarlig for tiltaket, melder status på denne måten",
    # services/planning/handlers/plans.py:142
    "the coordinator saves the plan instead": "koordinatoren lagrer planen i stedet",
    # services/planning/handlers/plans.py:155
    "no such measure": "tiltaket finnes ikke",
    # services/planning/handlers/plans.py:420
    "unknown plan status": "ukjent planstatus",
    # shared/bus/fastpath.py:69
    "{action}: invalid request": "{action}: ugyldig forespørsel",
    # shared/bus/fastpath.py:79
    "{action} could not be completed now; try again": "{action} kunne ikke fullføres nå; prøv igjen",
    # shared/bus/handlers.py:669
    "{self.action} could not be completed now; try again": "{self.action} kunne ikke fullføres nå; prøv igjen",
    # shared/contracts/assignment.py:307
    "override_limit needs an override_reason (R10)": "override_limit krever en override_reason (R10)",
    # shared/contracts/assignment.py:71
    "must be language codes of 2-3 letters, like nb, en, ar or sme": "må være språkkoder på 2–3 bokstaver, for eksempel nb, en, ar eller sme",
    # shared/contracts/assignment.py:403
    "say whether follow-up of the children or siblings is arranged (R12)": "oppgi om oppfølging av barna eller søsknene er ivaretatt (R12)",
    # shared/contracts/audit.py:93
    "until must be after since": "until må være etter since",
    # shared/contracts/consent.py:310
    "chooser is given with the action choose_tool, and only with it": "chooser oppgis sammen med handlingen choose_tool, og bare da",
    # shared/contracts/federation.py:96
    "a refusal needs a reason; the other organisation is told it": "et avslag må ha en begrunnelse; den andre virksomheten får den oppgitt",
    # shared/contracts/notifications.py:137
    "start and end are the same time: give a period, or no quiet hours": "start og slutt er samme tidspunkt: oppgi en periode, eller ingen stilletid",
    # shared/contracts/notifications.py:157
    "a {self.kind} recipient is given by case_id": "en mottaker av typen {self.kind} angis med case_id",
    # shared/contracts/notifications.py:159
    "a next_of_kin recipient names the relative, as in the consent": "en mottaker av typen next_of_kin må navngi den pårørende slik samtykket gjør",
    # shared/contracts/notifications.py:161
    "a {self.kind} recipient is given by id": "en mottaker av typen {self.kind} angis med id",
    # shared/contracts/subjects.py:22
    "not a valid subject token: {token!r}": "ikke et gyldig emneledd (subject token): {token!r}",
    # shared/contracts/xorg.py:39
    "must not contain an identity number (11 digits)": "kan ikke inneholde et fødselsnummer eller D-nummer (11 sifre)",
    # shared/contracts/xorg.py:282
    "header type/version do not match the payload": "type/versjon i hodet stemmer ikke med innholdet",
    # shared/gate.py:18
    "the consent gate could not decide; access is refused until it can": "samtykkekontrollen kunne ikke avgjøre; tilgang nektes til den kan",
    # services/assignment/coordination.py:102
    "a handover is already planned for this case; cancel it first": "en overføring er allerede planlagt i denne saken; avlys den først",
    # services/assignment/coordination.py:108
    "must not be in the past": "kan ikke være tilbake i tid",
    # services/assignment/coordination.py:110
    "must not be before overlap_start": "kan ikke være før overlap_start",
    # services/assignment/coordination.py:112
    "must be after overlap_start: the old and new coordinator overlap (R11); only a coordinator who has left may hand over without overlap": "må være etter overlap_start: gammel og ny koordinator skal ha overlapp (R11); bare en koordinator som har sluttet, kan overføre uten overlapp",
    # services/assignment/coordination.py:136
    "has started or is done, and cannot be cancelled": "har startet eller er fullført, og kan ikke avlyses",
    # services/assignment/handlers/cases.py:397
    "the coordinator consent has ended": "samtykket til koordinator er opphørt",
    # services/assignment/handlers/cases.py:397
    "no coordinator consent is in force (R5, R7)": "det finnes ikke et gyldig samtykke til koordinator (R5, R7)",
    # services/consent/domain.py:35
    "a representative must have the legal basis recorded (R6)": "for en representant må rettsgrunnlaget registreres (R6)",
    # services/consent/domain.py:61
    "a representative cannot {decides} for a child under 16; the parents do (R6)": "en representant kan ikke {decides} for et barn under 16 år; det gjør foreldrene (R6)",
    # services/consent/domain.py:51
    "the person is 16 or over and decides themself; parents or barnevernet cannot {decides} on their behalf (R6)": "personen er 16 år eller eldre og bestemmer selv; foreldre eller barnevernet kan ikke {decides} på personens vegne (R6)",
    # services/consent/domain.py:58
    "the person is under 16: those with parental responsibility (or barnevernet) {decides}, and the child is heard (R6)": "personen er under 16 år: de som har foreldreansvar (eller barnevernet) {decides}, og barnet blir hørt (R6)",
    # services/consent/domain.py:48
    "a representative may {decides} only for an adult (18 or over) (R6)": "en representant kan bare {decides} for en voksen (18 år eller eldre) (R6)",
    # services/consent/domain.py:71
    "applies only to a consent that parents or barnevernet give for a child": "gjelder bare samtykke som foreldre eller barnevernet gir for et barn",
    # services/consent/domain.py:74
    "the child is 12 or over and is heard before others consent for them: say whether they were (heard, could_not_be_heard, declined) (R6)": "barnet er 12 år eller eldre og skal høres før andre samtykker for det: oppgi om barnet ble hørt (heard, could_not_be_heard, declined) (R6)",
    # services/consent/domain.py:103
    "is required when a parent consents: one or both (R6)": "må oppgis når en forelder samtykker: én eller begge (R6)",
    # services/consent/domain.py:108
    "both parents have parental responsibility, so both must consent (R6)": "begge foreldrene har foreldreansvar, så begge må samtykke (R6)",
    # services/consent/domain.py:111
    "only one parent has parental responsibility": "bare én av foreldrene har foreldreansvar",
    # services/consent/domain.py:98
    "only a second parent can give consent together with one": "bare en forelder nummer to kan gi samtykke sammen med en forelder",
    # services/consent/domain.py:122
    "ends before it starts": "slutter før det begynner",
    # services/consent/domain.py:130
    "is required for a sharing consent: recipients and parts (R7)": "må oppgis for et samtykke til deling: mottakere og deler av planen (R7)",
    # services/consent/domain.py:132
    "is required for a next-of-kin consent: relatives and parts (R8)": "må oppgis for et pårørendesamtykke: pårørende og deler av planen (R8)",
    # services/consent/domain.py:134
    "applies only to a sharing consent": "gjelder bare samtykke til deling",
    # services/consent/domain.py:136
    "applies only to a next-of-kin consent": "gjelder bare pårørendesamtykke",
    # services/consent/gate.py:67
    "was withdrawn (R7)": "ble trukket tilbake (R7)",
    # services/consent/gate.py:68
    "has expired (R7)": "har utløpt (R7)",
    # services/consent/gate.py:69
    "was given by parents and lapsed at the 16th birthday; the young person's own consent took over (R6)": "ble gitt av foreldrene og falt bort ved 16-årsdagen; den unges eget samtykke tok over (R6)",
    # services/consent/gate.py:71
    "was given by parents and lapsed at the 16th birthday; the young person must renew it (R6)": "ble gitt av foreldrene og falt bort ved 16-årsdagen; den unge må fornye det selv (R6)",
    # services/consent/gate.py:97
    "the {kind} consent {why}": "samtykket ({kind}) {why}",
    # services/consent/gate.py:179
    "no {kind} consent names {grantee} for {part} ({rule})": "det finnes ikke samtykke ({kind}) som omfatter {grantee} for {part} ({rule})",
    # services/consent/gate.py:92
    "no consent to {label} (R5)": "det finnes ikke samtykke til {label} (R5)",
    # services/consent/gate.py:95
    "the {kind} consent is not yet in force": "samtykket ({kind}) gjelder ikke ennå",
    # services/consent/gate.py:122
    "the person's changes go through the coordinator": "personens endringer går gjennom koordinatoren",
    # services/consent/gate.py:126
    "{ip.reason}: no plan is made without it": "{ip.reason}: uten det lages ingen plan",
    # services/consent/gate.py:128
    "{ip.reason}: the plan is frozen": "{ip.reason}: planen er fryst",
    # services/consent/gate.py:133
    "the coordinator works on the plan under the IP consent": "koordinatoren arbeider med planen i kraft av samtykket til individuell plan",
    # services/consent/gate.py:137
    "next of kin take part through the coordinator (R8)": "pårørende deltar gjennom koordinatoren (R8)",
    # services/consent/gate.py:176
    "the {kind} consent for {grantee} on {part} {why}": "samtykket ({kind}) for {grantee} om {part} {why}",
    # services/consent/gate.py:89
    "{kind} consent in force": "samtykke ({kind}) gjelder",
    # services/consent/gate.py:117
    "notices to the person and staff need no sharing consent": "varsler til personen og ansatte krever ikke samtykke til deling",
    # services/consent/gate.py:121
    "the person may always see their own plan (R7)": "personen kan alltid se sin egen plan (R7)",
    # services/consent/gate.py:132
    "{coord.reason}: coordination stops": "{coord.reason}: koordineringen stanses",
    # services/consent/gate.py:169
    "a {kind} consent names this {label} ({rule})": "et samtykke ({kind}) omfatter {label} ({rule})",
    # services/federation/handlers.py:650
    "a case moves only to another municipality": "en sak kan bare flyttes til en annen kommune",
    # services/federation/handlers.py:650
    "{to} is a {kind}: the municipality keeps the plan and its coordination (R17)": "{to} er av typen {kind}: kommunen beholder planen og koordineringen av den (R17)",
    # services/intake/lifecycle.py:45
    "a case must be assessed before it is decided": "en sak må vurderes før det fattes vedtak",
    # services/intake/lifecycle.py:46
    "a case under assessment must be decided first": "en sak under vurdering må først avgjøres",
    # services/intake/lifecycle.py:47
    "a decided case can become active, be reassessed or be closed": "en avgjort sak kan settes i gang, vurderes på nytt eller avsluttes",
    # services/intake/lifecycle.py:48
    "an active case can be reassessed or closed": "en aktiv sak kan vurderes på nytt eller avsluttes",
    # services/intake/lifecycle.py:49
    "the case is closed; report a new need to open a new case": "saken er avsluttet; meld et nytt behov for å opprette en ny sak",
    # services/intake/lifecycle.py:59
    "cannot go from {current} to {target}: {_WHY_NOT[current]}": "kan ikke gå fra {current} til {target}: {_WHY_NOT[current]}",
    # services/intake/lifecycle.py:58
    "the case is already {current}": "saken har allerede status {current}",
    # services/planning/domain.py:438
    "the plan is frozen: the consent to an individual plan has ended (R7)": "planen er fryst: samtykket til individuell plan er opphørt (R7)",
    # services/planning/domain.py:440
    "the plan is closed; closed plans are kept as they were": "planen er avsluttet; avsluttede planer bevares slik de var",
    # shared/client.py:79
    "no answer on {subject}": "ikke svar på {subject}",
    # services/assignment/domain.py:29
    "a hospital coordinator is appointed by a hospital (R17)": "en koordinator i sykehus oppnevnes av et sykehus (R17)",
    # services/assignment/domain.py:32
    "a hospital appoints hospital coordinators (R17); the municipality appoints the others": "et sykehus oppnevner koordinatorer i sykehus (R17); kommunen oppnevner de andre",
    # services/assignment/domain.py:39
    "a barnekoordinator is for a family with a child under 18 (R20)": "barnekoordinator er for en familie med et barn under 18 år (R20)",
    # services/federation/domain.py:81
    "is not a valid fødselsnummer or D-nummer (check digits or date)": "er ikke et gyldig fødselsnummer eller D-nummer (kontrollsifre eller dato)",
    # services/consent/handlers/ending.py:34
    "the consent is already withdrawn": "samtykket er allerede trukket tilbake",
    # services/consent/handlers/ending.py:35
    "the consent has already expired": "samtykket har allerede utløpt",
    # services/consent/handlers/ending.py:36
    "the consent already lapsed at the 16th birthday; record a new one": "samtykket falt allerede bort ved 16-årsdagen; registrer et nytt",
    # services/consent/handlers/ending.py:37
    "the consent already lapsed at the 16th birthday; the young person's own consent took over": "samtykket falt allerede bort ved 16-årsdagen; den unges eget samtykke tok over",
    # services/consent/handlers/ending.py:89
    "the consent is {consent.status}": "samtykket har status {consent.status}",
    # services/consent/handlers/reads.py:150
    "no consent in force was given by {q.chooser.value} for this person: only those who consent on the person's behalf choose for them (R6)": "{q.chooser.value} har ikke gitt et gyldig samtykke for denne personen: bare de som samtykker på personens vegne, velger for personen (R6)",
    # services/consent/handlers/reads.py:155
    "{q.chooser.value} may choose the tool (R6, R13)": "{q.chooser.value} kan velge koordineringsverktøy (R6, R13)",
    # services/consent/domain.py:48
    "a representative may consent only for an adult (18 or over) (R6)": "en representant kan bare samtykke for en voksen (18 år eller eldre) (R6)",
    # services/consent/domain.py:48
    "a representative may choose the tool only for an adult (18 or over) (R6)": "en representant kan bare velge koordineringsverktøy for en voksen (18 år eller eldre) (R6)",
    # services/consent/domain.py:51
    "the person is 16 or over and decides themself; parents or barnevernet cannot consent on their behalf (R6)": "personen er 16 år eller eldre og bestemmer selv; foreldre eller barnevernet kan ikke samtykke på personens vegne (R6)",
    # services/consent/domain.py:51
    "the person is 16 or over and decides themself; parents or barnevernet cannot choose the tool on their behalf (R6)": "personen er 16 år eller eldre og bestemmer selv; foreldre eller barnevernet kan ikke velge koordineringsverktøy på personens vegne (R6)",
    # services/consent/domain.py:58
    "the person is under 16: those with parental responsibility (or barnevernet) consent, and the child is heard (R6)": "personen er under 16 år: de som har foreldreansvar (eller barnevernet), samtykker, og barnet blir hørt (R6)",
    # services/consent/domain.py:58
    "the person is under 16: those with parental responsibility (or barnevernet) choose the tool, and the child is heard (R6)": "personen er under 16 år: de som har foreldreansvar (eller barnevernet), velger koordineringsverktøy, og barnet blir hørt (R6)",
    # services/consent/domain.py:61
    "a representative cannot consent for a child under 16; the parents do (R6)": "en representant kan ikke samtykke for et barn under 16 år; det gjør foreldrene (R6)",
    # services/consent/domain.py:61
    "a representative cannot choose the tool for a child under 16; the parents do (R6)": "en representant kan ikke velge koordineringsverktøy for et barn under 16 år; det gjør foreldrene (R6)",
    # services/consent/gate.py:89
    "ip consent in force": "samtykke til individuell plan gjelder",
    # services/consent/gate.py:89
    "coordinator consent in force": "samtykke til koordinator gjelder",
    # services/consent/gate.py:91
    "an individual plan": "individuell plan",
    # services/consent/gate.py:91
    "a coordinator": "koordinator",
    # services/consent/gate.py:92
    "no consent to an individual plan (R5)": "det finnes ikke samtykke til individuell plan (R5)",
    # services/consent/gate.py:92
    "no consent to a coordinator (R5)": "det finnes ikke samtykke til koordinator (R5)",
    # services/consent/gate.py:95
    "the ip consent is not yet in force": "samtykket til individuell plan gjelder ikke ennå",
    # services/consent/gate.py:95
    "the coordinator consent is not yet in force": "samtykket til koordinator gjelder ikke ennå",
    # services/consent/gate.py:97
    "the ip consent was withdrawn (R7)": "samtykket til individuell plan ble trukket tilbake (R7)",
    # services/consent/gate.py:97
    "the ip consent has expired (R7)": "samtykket til individuell plan har utløpt (R7)",
    # services/consent/gate.py:97
    "the ip consent was given by parents and lapsed at the 16th birthday; the young person's own consent took over (R6)": "samtykket til individuell plan ble gitt av foreldrene og falt bort ved 16-årsdagen; den unges eget samtykke tok over (R6)",
    # services/consent/gate.py:97
    "the ip consent was given by parents and lapsed at the 16th birthday; the young person must renew it (R6)": "samtykket til individuell plan ble gitt av foreldrene og falt bort ved 16-årsdagen; den unge må fornye det selv (R6)",
    # services/consent/gate.py:97
    "the coordinator consent was withdrawn (R7)": "samtykket til koordinator ble trukket tilbake (R7)",
    # services/consent/gate.py:97
    "the coordinator consent has expired (R7)": "samtykket til koordinator har utløpt (R7)",
    # services/consent/gate.py:97
    "the coordinator consent was given by parents and lapsed at the 16th birthday; the young person's own consent took over (R6)": "samtykket til koordinator ble gitt av foreldrene og falt bort ved 16-årsdagen; den unges eget samtykke tok over (R6)",
    # services/consent/gate.py:97
    "the coordinator consent was given by parents and lapsed at the 16th birthday; the young person must renew it (R6)": "samtykket til koordinator ble gitt av foreldrene og falt bort ved 16-årsdagen; den unge må fornye det selv (R6)",
    # services/consent/gate.py:118
    "next of kin": "pårørende",
    # services/consent/gate.py:139
    "provider": "tjenesteyter",
    # services/consent/gate.py:169
    "a sharing consent names this provider (R7)": "et samtykke til deling omfatter denne tjenesteyteren (R7)",
    # services/consent/gate.py:169
    "a next_of_kin consent names this next of kin (R8)": "et pårørendesamtykke omfatter denne pårørende (R8)",
    # services/consent/gate.py:172
    "the plan": "planen",
    # services/consent/gate.py:175
    "is not in force": "gjelder ikke",
    # services/consent/gate.py:176
    "the sharing consent for {grantee} on the plan {why}": "samtykket til deling med {grantee} om planen {why}",
    # services/consent/gate.py:176
    "the sharing consent for {grantee} on {part} {why}": "samtykket til deling med {grantee} om {part} {why}",
    # services/consent/gate.py:176
    "the next_of_kin consent for {grantee} on the plan {why}": "pårørendesamtykket for {grantee} om planen {why}",
    # services/consent/gate.py:176
    "the next_of_kin consent for {grantee} on {part} {why}": "pårørendesamtykket for {grantee} om {part} {why}",
    # services/consent/gate.py:179
    "no sharing consent names {grantee} for {part} (R7)": "det finnes ikke samtykke til deling som omfatter {grantee} for {part} (R7)",
    # services/consent/gate.py:179
    "no next_of_kin consent names {grantee} for {part} (R8)": "det finnes ikke pårørendesamtykke som omfatter {grantee} for {part} (R8)",
    # shared/contracts/consent.py:285
    "consent knows no such case": "tjenesten consent kjenner ikke til denne saken",
    # services/planning/handlers/plans.py:169
    "the plan is frozen: the decision on individual plan refused it (R3)": "planen er fryst: vedtaket om individuell plan ga avslag (R3)",
    # services/planning/domain.py:330
    "only goals and measures are evaluated": "bare mål og tiltak evalueres",
    # services/planning/domain.py:332
    "no goal or measure with this id in the plan": "planen har ikke noe mål eller tiltak med denne id-en",
    # services/planning/handlers/plans.py:424
    "statuses are draft, active, frozen, under_revision, closed": "gyldige statuser er draft, active, frozen, under_revision, closed",
    # services/intake/catalogue.py:83
    "unknown service type; see `kenett intake service-types`": "ukjent tjenestetype; se `kenett intake service-types`",
    # services/intake/domain.py:69
    "is required when next of kin reports (R2)": "må oppgis når pårørende melder (R2)",
    # services/intake/domain.py:71
    "is required when an employee reports (R2)": "må oppgis når en ansatt melder (R2)",
    # services/intake/domain.py:73
    "is required when the hospital reports (R2)": "må oppgis når sykehuset melder (R2)",
    # services/intake/domain.py:76
    "applies only to reports from the hospital": "gjelder bare meldinger fra sykehuset",
    # services/intake/domain.py:82
    "applies only when another organisation (a hospital or a KE) passes a report on": "gjelder bare når en annen virksomhet (et sykehus eller en KE) sender en melding videre",
    # services/intake/domain.py:91
    "applies only when reporter.kind is {allowed}": "gjelder bare når reporter.kind er {allowed}",
    # services/intake/handlers/decisions.py:55
    "assess eligibility before deciding": "vurder retten til individuell plan før det fattes vedtak",
    # services/intake/handlers/decisions.py:57
    "the case is {case.status}; reassess it before a new decision": "saken har status {case.status}; vurder den på nytt før et nytt vedtak",
    # services/notifications/channels/email.py:37
    "e-mail address must be a bare address, without a name or angle brackets": "e-postadressen må være bare selve adressen, uten navn eller vinkelparenteser",
    # services/notifications/channels/email.py:39
    "e-mail address has extra text after it": "e-postadressen har ekstra tekst etter seg",
    # services/notifications/channels/email.py:40
    "e-mail address has a look-alike character instead of @": "e-postadressen har et tegn som ligner på @, i stedet for @",
    # services/notifications/channels/email.py:41
    "e-mail address must have an @ sign": "e-postadressen må ha en @",
    # services/notifications/channels/email.py:42
    "e-mail address has nothing before the @ sign": "e-postadressen har ingenting foran @",
    # services/notifications/channels/email.py:43
    "e-mail address has no domain after the @ sign": "e-postadressen har ikke noe domene etter @",
    # services/notifications/channels/email.py:44
    "e-mail address is too long": "e-postadressen er for lang",
    # services/notifications/channels/email.py:45
    "e-mail address must not use quotes": "e-postadressen kan ikke ha anførselstegn",
    # services/notifications/channels/email.py:47
    "e-mail domain must be a name, not an address in brackets": "e-postdomenet må være et navn, ikke en adresse i hakeparenteser",
    # services/notifications/channels/email.py:48
    "e-mail domain is a reserved name that cannot receive mail": "e-postdomenet er et reservert navn som ikke kan motta e-post",
    # services/notifications/channels/email.py:49
    "e-mail domain is incomplete (it has no period)": "e-postdomenet er ufullstendig (det mangler punktum)",
    # services/notifications/channels/email.py:50
    "e-mail domain has no valid top-level domain": "e-postdomenet har ikke et gyldig toppnivådomene",
    # services/notifications/channels/email.py:51
    "e-mail address has a misplaced period": "e-postadressen har et punktum på feil sted",
    # services/notifications/channels/email.py:52
    "e-mail address has a misplaced hyphen": "e-postadressen har en bindestrek på feil sted",
    # services/notifications/channels/email.py:53
    "e-mail address has invalid characters before the @ sign": "e-postadressen har ugyldige tegn foran @",
    # services/notifications/channels/email.py:54
    "e-mail domain contains invalid characters": "e-postdomenet inneholder ugyldige tegn",
    # services/notifications/channels/email.py:62
    "e-mail address is not valid": "e-postadressen er ikke gyldig",
    # services/notifications/channels/sms.py:29
    "not a mobile number in E.164 form (+47…)": "ikke et mobilnummer på formen E.164 (+47…)",
    # services/notifications/channels/webhook.py:49
    "webhook URL is malformed": "webhook-URL-en er feilformet",
    # services/notifications/channels/webhook.py:50
    "webhook URL must use https (http only for localhost)": "webhook-URL-en må bruke https (http bare for localhost)",
    # shared/contracts/replies.py:56
    "is required": "må oppgis",
    # shared/contracts/replies.py:58
    "is not a known field": "er ikke et kjent felt",
    # pydantic (via shared/contracts/replies.py:53 field_errors)
    "Input should be a valid integer": "må være et heltall",
    # pydantic (via shared/contracts/replies.py:53 field_errors)
    "Input should be a valid integer, unable to parse string as an integer": "må være et heltall; teksten kunne ikke leses som et heltall",
    # pydantic (via shared/contracts/replies.py:53 field_errors)
    "Input should be a valid date": "må være en gyldig dato",
    # pydantic (via shared/contracts/replies.py:53 field_errors)
    "Input should be a valid datetime": "må være et gyldig tidspunkt",
    # pydantic (via shared/contracts/replies.py:53 field_errors)
    "Input should be a valid date or datetime, input is too short": "må være en gyldig dato eller et gyldig tidspunkt; verdien er for kort",
    # pydantic (via shared/contracts/replies.py:53 field_errors)
    "Input should be a valid string": "må være en tekst",
    # pydantic (via shared/contracts/replies.py:53 field_errors)
    "Input should be a valid boolean": "må være en sannhetsverdi (true eller false)",
    # pydantic (via shared/contracts/replies.py:53 field_errors)
    "Input should be a valid UUID, invalid character: expected an optional prefix of `urn:uuid:` followed by [0-9a-fA-F-], found `{c}` at {i}": "må være en gyldig UUID; ugyldig tegn: forventet et valgfritt prefiks `urn:uuid:` fulgt av [0-9a-fA-F-], fant `{c}` på posisjon {i}",
    # pydantic (via shared/contracts/replies.py:53 field_errors)
    "Input should be a valid UUID, invalid length: expected length 32 for simple format, found {n}": "må være en gyldig UUID; ugyldig lengde: forventet 32 tegn i enkel form, fant {n}",
    # pydantic (via shared/contracts/replies.py:53 field_errors)
    # pydantic-core 2.4x words a bad UUID so (Typer's UUID options too)
    "Input should be a valid UUID, invalid length: found {n}": "må være en gyldig UUID; ugyldig lengde: fant {n} tegn",
    "Input should be a valid UUID, invalid character: found `{c}` at {i}": "må være en gyldig UUID; ugyldig tegn `{c}` på posisjon {i}",
    "Input should be a valid UUID, invalid group length in group {g}: expected {e}, found {n}": "må være en gyldig UUID; gruppe {g} skal ha {e} tegn, men har {n}",
    "Input should be a valid list": "må være en liste",
    # pydantic (via shared/contracts/replies.py:53 field_errors)
    "Input should be a valid dictionary": "må være et oppslagsobjekt (dictionary)",
    # pydantic (via shared/contracts/replies.py:53 field_errors)
    "String should have at least {n} character": "må ha minst {n} tegn",
    # pydantic (via shared/contracts/replies.py:53 field_errors)
    "String should have at least {n} characters": "må ha minst {n} tegn",
    # pydantic (via shared/contracts/replies.py:53 field_errors)
    "String should have at most {n} characters": "kan ha høyst {n} tegn",
    # pydantic (via shared/contracts/replies.py:53 field_errors)
    "List should have at least {n} item after validation, not {m}": "må ha minst {n} element, ikke {m}",
    # pydantic (via shared/contracts/replies.py:53 field_errors)
    "List should have at least {n} items after validation, not {m}": "må ha minst {n} elementer, ikke {m}",
    # pydantic (via shared/contracts/replies.py:53 field_errors)
    "Input should be greater than or equal to {n}": "må være større enn eller lik {n}",
    # pydantic (via shared/contracts/replies.py:53 field_errors)
    "Input should be less than or equal to {n}": "må være mindre enn eller lik {n}",
    # pydantic (via shared/contracts/replies.py:53 field_errors)
    "Input should be greater than {n}": "må være større enn {n}",
    # pydantic (via shared/contracts/replies.py:53 field_errors)
    "Value error, {x}": "{x}",
    # pydantic (via shared/contracts/replies.py:53 field_errors)
    "Input should be {options}": "må være {options}",
    # pydantic (via shared/contracts/replies.py:53 field_errors)
    "Field required": "må oppgis",
    # pydantic (via shared/contracts/replies.py:53 field_errors)
    "Extra inputs are not permitted": "er ikke et kjent felt",
    # pydantic (via shared/contracts/replies.py:53 field_errors)
    "Datetime should have timezone info": "må ha tidssone",
    # pydantic (via shared/contracts/replies.py:53 field_errors)
    "Input should have timezone info": "må ha tidssone",
    # pydantic (via shared/contracts/replies.py:53 field_errors)
    "Input should be in the past": "må være tilbake i tid",
    # pydantic (via shared/contracts/replies.py:53 field_errors)
    "Input should be in the future": "må være fram i tid",
    # pydantic (via shared/contracts/replies.py:53 field_errors)
    "Date should be in the past": "må være en dato tilbake i tid",
    # pydantic (via shared/contracts/replies.py:53 field_errors)
    "Date should be in the future": "må være en dato fram i tid",
    # services/planning/domain.py (R14 point 7, R16)
    "a revision date is after the plan period ends": "en revisjonsdato er etter at planperioden slutter",
    "is after the plan period ends": "er etter at planperioden slutter",
    "is before the plan period starts": "er før planperioden begynner",
    # services/federation/handlers.py (Runtime.partner; the code typed is not repeated)
    "unknown organisation": "ukjent virksomhet",
    # services/consent/handlers/ending.py (replacement_refusal, R7)
    "a consent that replaces another counts at once": "et samtykke som erstatter et annet, gjelder straks",
    "the consent to replace belongs to another case": "samtykket som skal erstattes, gjelder en annen sak",
    "the consent to replace is of another kind ({old.kind})": "samtykket som skal erstattes, er av en annen type ({old.kind})",
    # --- Command-line options (typer.BadParameter in services/*/cli.py, shared/runtime/) -----
    # services/assignment/cli.py (R12)
    "answer ja or nei": "svar ja eller nei",
    "missing: mapping children says both --children and --siblings (ja or nei), and --followed-up where either is ja (R12)": "mangler: kartleggingen av barn oppgir både --children og --siblings (ja eller nei), og --followed-up der en av dem er ja (R12)",
    # services/federation/cli.py
    "out or in": "out eller in",
    "{file}: {exc}": "{file}: {exc}",
    "{file}: org {n + 1} has no {exc}": "{file}: virksomhet nr. {n + 1} mangler {exc}",
    # services/intake/cli.py
    "the grounds (begrunnelse) are empty": "begrunnelsen er tom",
    # services/notifications/cli.py
    "give ke, coordinator:<id>, staff:<id>, member:<id>, person:<case id> or next_of_kin:<case id>:<relative>": "oppgi ke, coordinator:<id>, staff:<id>, member:<id>, person:<saks-id> eller next_of_kin:<saks-id>:<relasjon>",
    "give a time as HH:MM": "oppgi et klokkeslett som tt:mm",
    "give CHANNEL=ADDRESS": "oppgi KANAL=ADRESSE",
    "give HH:MM-HH:MM": "oppgi tt:mm-tt:mm",
    # services/planning/cli.py
    "you ({me.id}) are not coordinator {ident}: a coordinator reads and writes as themself; read in your own role (provider:, next_of_kin:) instead": "du ({me.id}) er ikke koordinator {ident}: en koordinator leser og skriver som seg selv; les i din egen rolle (provider:, next_of_kin:) i stedet",
    "active, under_revision or closed": "active, under_revision eller closed",
    "person, parent, barnevern or representative": "person, parent, barnevern eller representative",
    "delete or anonymise": "delete eller anonymise",
    "not an id (a UUID)": "ikke en id (en UUID)",
    "use KIND:ID with KIND one of person, coordinator, provider, next_of_kin": "bruk TYPE:ID der TYPE er en av person, coordinator, provider, next_of_kin",
    "not a plan file from `export` (version and content)": "ikke en planfil fra `export` (versjon og innhold)",
    "KIND is person, service, next_of_kin or coordinator": "TYPE er person, service, next_of_kin eller coordinator",
    "not a time (YYYY-MM-DDTHH:MM)": "ikke et tidspunkt (ÅÅÅÅ-MM-DDTtt:mm)",
    "the minutes are not as described": "referatet er ikke slik det er beskrevet",
    "not minutes in JSON ({type(exc).__name__})": "ikke et referat i JSON ({type(exc).__name__})",
    # shared/runtime/cli.py
    "not an installed service: {', '.join(unknown)} (installed: {', '.join(installed)})": "ikke en installert tjeneste: {', '.join(unknown)} (installert: {', '.join(installed)})",
    "{first} is in the future": "{first} er fram i tid",
    "before --since": "før --since",
    # shared/runtime/clitools.py
    "neither a case id nor a case number (2026-000123)": "verken en saks-id eller et saksnummer (2026-000123)",
    "no coordinator {ref!r} in the registry (kenett assignment coordinators lists them)": "ingen koordinator {ref!r} i registeret (kenett assignment coordinators viser dem)",
    "not a date (YYYY-MM-DD) or a time (YYYY-MM-DDTHH:MM+01:00)": "ikke en dato (ÅÅÅÅ-MM-DD) eller et tidspunkt (ÅÅÅÅ-MM-DDTtt:mm+01:00)",
    "not a date (YYYY-MM-DD)": "ikke en dato (ÅÅÅÅ-MM-DD)",
    "too far ahead: leave the option out for no end": "for langt fram i tid: utelat valget for ingen sluttdato",
    # --- The command line's own usage errors (Typer's vendored Click words them in English;
    # shared/runtime/cli_nb.py shows them through this catalogue) -------------------------------
    "Invalid value for {hint}: {message}": "Ugyldig verdi for {hint}: {message}",
    "Invalid value: {message}": "Ugyldig verdi: {message}",
    "Missing option {hint}.": "Mangler valget {hint}.",
    "Missing option {hint}. {message}": "Mangler valget {hint}. {message}",
    "Choose from:\n\t{choices}": "Velg blant:\n\t{choices}",
    "Missing argument {hint}.": "Mangler argumentet {hint}.",
    "Missing argument {hint}. {message}": "Mangler argumentet {hint}. {message}",
    "Missing parameter {hint}.": "Mangler parameteren {hint}.",
    "Missing parameter: {name}": "Mangler parameteren: {name}",
    "No such option: {name}": "Ukjent valg: {name}",
    "No such option: {name} (Possible options: {names})": "Ukjent valg: {name} (mulige valg: {names})",
    "Got unexpected extra argument(s) ({args})": "Fikk argumenter for mye ({args})",
    "Missing command.": "Mangler kommando.",
    "No such command {name}.": "Ukjent kommando {name}.",
    "Option {name} does not take a value.": "Valget {name} tar ingen verdi.",
    "Option {name} requires an argument.": "Valget {name} krever en verdi.",
    "Option {name} requires {n} arguments.": "Valget {name} krever {n} verdier.",
    "Argument {name} takes {n} values.": "Argumentet {name} tar {n} verdier.",
    "Value {value} is not a valid {kind}.": "Verdien {value} er ikke gyldig som {kind}.",
    "{value} is not one of {choices}.": "{value} er ikke en av {choices}.",
    "Value must be an iterable.": "Verdien må være en liste.",
    "{count} values are required, but {given} given.": "{count} verdier kreves, men fikk {given}.",
    "{value} does not match the formats {formats}.": "{value} har ingen av formatene {formats}.",
    "Could not open file {name}: {message}": "Kunne ikke åpne filen {name}: {message}",
    "{label} {name} does not exist.": "{label} {name} finnes ikke.",
    "{label} {name} is a file.": "{label} {name} er en fil.",
    "{label} {name} is a directory.": "{label} {name} er en mappe.",
    "{label} {name} is not readable.": "{label} {name} kan ikke leses.",
    "{label} {name} is not writable.": "{label} {name} kan ikke skrives til.",
}
