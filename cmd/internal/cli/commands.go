package cli

import "github.com/predikat-id/predikat/cmd/internal/cli/importfile"

// commands is every command, in the order of the help text ("predikat dev"
// is the binary's own and comes first). Each entry names its flags and
// behaviour through its setup function, defined beside the command's
// helpers.
var commands = []*spec{
	{
		path: "demo load", uses: useRegistry | useAssessment,
		summary: "load the Kalimantan Selatan demo data into running services",
		about: `Loads the demo data into running services: the institutions of Kalimantan
Selatan and every figure and award the seed news articles publish, each with
its source. "predikat dev" does this itself on an empty data directory; this
command is for a stack started otherwise. It is idempotent: running it again
changes nothing.`,
		examples: []string{"predikat demo load", "predikat demo load --registry 127.0.0.1:6051 --assessment 127.0.0.1:6052"},
		setup:    cmdDemoLoad,
	},
	{
		path: "institutions import", args: "FILE.csv", uses: useRegistry,
		summary: "register the institutions of a CSV file (repeatable)",
		about: `Registers every institution of a CSV file. Columns (header line required):
  id,name,kind,region_code,parent_id,head_name,head_title,head_term_start,aliases,yearly_service_users
id, name, kind and region_code are required; aliases are separated by ';'.
A service unit (serviceunit, unitlayanan) needs parent_id; yearly_service_users
(its survey's population, empty when unknown) is only for service units.
kind is one of ` + importfile.KindTokens + `; region_code is the
Kemendagri code ("00" national, "63" province, "63.06" regency, "63.71" city).
Parents listed in the file are registered before their children.

Commas or semicolons (as a spreadsheet saves CSV in the Indonesian locale).
The file is checked whole against the registry first (every region known,
every parent in the file or registered, no name already registered under
another id): every problem is listed with its line, and then nothing is
registered. The import is repeatable, and an interrupted one is finished by
running it again: an institution whose id is already registered counts as
unchanged (it is not updated).`,
		examples: []string{
			"predikat institutions import kalsel.csv",
			"predikat institutions import kalsel.csv --dry-run",
		},
		setup: cmdInstitutionsImport,
	},
	{
		path: "regions list", uses: useRegistry, read: true,
		summary: "list the regions (Kemendagri codes): provinces, regencies, cities",
		about: `Lists the regions the registry knows, by code: the 38 provinces and their
514 regencies and cities built in (idn-area-data, under the ODbL), and any
added since. --province 63 gives the province and its regencies and cities.`,
		examples: []string{"predikat regions list --level province", "predikat regions list --province 63", "predikat regions list --json"},
		setup:    cmdRegionsList,
	},
	{
		path: "regions add", args: "CODE NAME", uses: useRegistry,
		summary: "add a region (a new regency or city) by its Kemendagri code",
		about: `Adds a region the built-in catalog lacks, such as a regency created after
it: the code says the level ("64" province, "64.12" regency, "64.75" city)
and its province must exist. A code that exists is refused.`,
		examples: []string{`predikat regions add 64.12 "Contoh Baru"`},
		setup:    cmdRegionsAdd,
	},
	{
		path: "institutions list", uses: useRegistry, read: true,
		summary: "list institutions (by province, region, kind, words)",
		about: `Lists registered institutions ordered by name, every page.
--province 63 includes the regencies and cities of the province.`,
		examples: []string{
			"predikat institutions list --province 63",
			"predikat institutions list --province 63 --kind pemkab,pemkot",
			"predikat institutions list --query \"hulu selatan\" --json",
		},
		setup: cmdInstitutionsList,
	},
	{
		path: "institutions get", args: "ID", uses: useRegistry, read: true,
		summary:  "show one institution: name, kind, region, parent, head, aliases, revision",
		examples: []string{"predikat institutions get pemkab-hss", "predikat institutions get pemkab-hss --json"},
		setup:    cmdInstitutionsGet,
	},
	{
		path: "institutions update", args: "ID", uses: useRegistry,
		summary: "change an institution's name, region, parent, head or aliases",
		about: `Changes the fields given, and only those, at the revision just read: a change
made meanwhile by someone else is refused (Aborted), never overwritten. A new
head moves the previous one to the past heads, so awards keep the head in
office on their day.`,
		examples: []string{
			`predikat institutions update pemkab-hss --head-name "Syafrudin Noor" --head-title Bupati --head-term-start 2025-02-20`,
			`predikat institutions update pemkab-hss --aliases "Pemkab HSS;Kabupaten HSS"`,
		},
		setup: cmdInstitutionsUpdate,
	},
	{
		path: "institutions retire", args: "ID", uses: useRegistry,
		summary:  "retire an institution (it keeps its history; it takes no new records)",
		examples: []string{`predikat institutions retire kantah-lama --reason "merged into kantah-tanah-laut"`},
		setup:    cmdInstitutionsRetire,
	},
	{
		path: "schemes list", uses: useAssessment, read: true,
		summary:  "list the scheme versions: years, scale, bands, built in or registered",
		examples: []string{"predikat schemes list", "predikat schemes list --scheme ombudsman", "predikat schemes list --year 2026"},
		setup:    cmdSchemesList,
	},
	{
		path: "schemes show", args: "SCHEME", uses: useAssessment, read: true,
		summary: "print a scheme version as JSON: the file format \"schemes add\" takes",
		about: `Prints one version of a scheme (the latest, or --version, or the one in
force in --year) as the JSON of predikat.assessment.v1.Scheme: the format of
the built-in files and of "predikat schemes add". Start a new version from
it: change version, first_year, last_year and the rules, cite the source.`,
		examples: []string{"predikat schemes show ombudsman", "predikat schemes show pekppp --version 2023 > pekppp-2026.json"},
		setup:    cmdSchemesShow,
	},
	{
		path: "schemes add", args: "FILE.json", uses: useAssessment,
		summary: "register a new scheme version at run time (scheme registrar)",
		about: `Registers a scheme version from a JSON file (the format "schemes show"
prints). It is checked by the rules of the built-in files (weights sum to
100, bands cover the scale without gap or overlap, years do not overlap
another version of the scheme), an error naming the field and the rule;
then stored in JetStream and usable for a round at once, on every replica
and after any restart. A version never changes once registered: a fix is a
new version. Registering the same file again changes nothing.`,
		examples: []string{"predikat schemes add pekppp-2026.json"},
		setup:    cmdSchemesAdd,
	},
	{
		path: "rounds create", uses: useAssessment,
		summary: "open the round of a scheme for a year",
		about: `Opens the round of a scheme for a year (id "<scheme>-<year>"), applying the
scheme version in force that year unless --version names one.`,
		examples: []string{
			"predikat rounds create --scheme ombudsman --year 2024 --from 2024-03-01 --to 2024-11-30",
			"predikat rounds create --scheme sakip --year 2024 --title \"Evaluasi SAKIP 2024\"",
		},
		setup: cmdRoundsCreate,
	},
	{
		path: "rounds close", args: "ROUND", uses: useAssessment,
		summary:  "stop a round taking records",
		examples: []string{"predikat rounds close ombudsman-2024"},
		setup:    cmdRoundsClose,
	},
	{
		path: "rounds reopen", args: "ROUND", uses: useAssessment,
		summary:  "let a closed round take records again",
		examples: []string{"predikat rounds reopen ombudsman-2024 --reason \"late submissions from Polres Tapin\""},
		setup:    cmdRoundsReopen,
	},
	{
		path: "rounds publish", args: "ROUND", uses: useAssessment,
		summary: "freeze a closed round and grant its awards",
		about: `Publishes a CLOSED round: its results become final and the scheme's band,
rank and category awards are granted (each exactly once; publishing again
finishes a publication that stopped halfway). The ceremony and presenter
are copied onto every award granted.`,
		examples: []string{
			`predikat rounds publish ombudsman-2024 --ceremony "Penganugerahan Predikat Kepatuhan Penyelenggaraan Pelayanan Publik 2024" --place "Ballroom Swiss-Belhotel Banjarmasin" --date 2024-12-11`,
			`predikat rounds publish sakip-2024 --ceremony "Rapat Koordinasi Pelayanan Publik se-Kalimantan Selatan" --place "Gedung Mahligai Pancasila, Banjarmasin" --date 2025-04-17 --presented-by "Purwadi Arianto" --office "Wakil Menteri PAN-RB"`,
		},
		setup: cmdRoundsPublish,
	},
	{
		path: "rounds list", uses: useAssessment, read: true,
		summary:  "list rounds, newest year first",
		examples: []string{"predikat rounds list", "predikat rounds list --scheme ombudsman", "predikat rounds list --state open,closed --json"},
		setup:    cmdRoundsList,
	},
	{
		path: "assessments import", args: "FILE.csv", uses: useRegistry | useAssessment,
		summary: "record a round's published table from a CSV file, in one step (repeatable)",
		about: `Records a round's published results from a CSV file, separated by commas or
semicolons (as a spreadsheet saves CSV in the Indonesian locale: "96,52"
needs no quotes then). Columns (header line required):
  institution_id, or institution (a registered name or alias, e.g. "Pemkab
    Hulu Sungai Selatan") with kind and region_code (a province such as 63
    is enough) where a name is not unique;
  total, band, or one column per dimension of the round's scheme version
    (named by its code: "predikat schemes show"), one of them per line;
  source_title, source_publisher, source_url, source_date, source_note,
  notes, respondents.

The file is checked whole before anything is written: every line parsed,
every institution matched, every figure computed by the service (scale,
precision, bands, eligibility), every existing record compared. Every
problem is listed with its line, and then nothing is written. --dry-run
stops there. The lines are then recorded in atomic batches (--batch lines,
each stored whole or not at all), each line under a request id derived from
its content: an import stopped part-way (a crash, Ctrl-C, a lost
connection) is finished by running the same command again, and no line
counts twice. What changes while the file is written (the round closed, an
institution retired meanwhile) stops it at a batch: the batches before stay
stored, and the same command finishes once the cause is fixed. A caller
whose access is scoped to provinces or institutions records line by line. A
changed line for an institution that already has a record is refused: that
is a correction ("predikat assessments correct"), not an import.`,
		examples: []string{
			"predikat assessments import ombudsman-2024.csv --round ombudsman-2024",
			"predikat assessments import hasil-opini-2025.csv --round ombudsman-2025 --dry-run",
		},
		setup: cmdAssessmentsImport,
	},
	{
		path: "assessments list", uses: useAssessment, read: true,
		summary:  "list the records of a round",
		examples: []string{"predikat assessments list --round ombudsman-2024", "predikat assessments list --round sakip-2024 --province 63 --json"},
		setup:    cmdAssessmentsList,
	},
	{
		path: "assessments correct", uses: useAssessment,
		summary: "correct a record: a new revision with its reason (awards follow)",
		about: `Records a corrected result for an institution in a round as a new revision
with its reason; the earlier revisions stay. Of a published round the
correction re-ranks and reconciles its awards (granted and revoked are
printed). --revision is the revision corrected, by default the current one:
a correction made meanwhile by someone else is refused, never overwritten.
Sent twice, the same correction is one revision.`,
		examples: []string{
			`predikat assessments correct --round ombudsman-2024 --institution polres-hss --total 96,64 --reason "typo in the published table"`,
			`predikat assessments correct --round sakip-2024 --institution pemkab-hss --band A --revision 2 --reason "LHE revised"`,
		},
		setup: cmdAssessmentsCorrect,
	},
	{
		path: "assessments show", uses: useAssessment, read: true,
		summary: "show one record in full, with its report card (rapor)",
		about: `Shows an institution's record in a round: the result, who recorded it and
why, and its report card: the improvement notes left on it (per dimension
of the scheme version, or "(overall)"), each with its id ("<round>/<n>"),
and what became of the notes of the institution's previous assessment in
the scheme: addressed, not addressed, or not reviewed (no follow-up names
it). --revision shows an earlier revision; --json prints the record as the
API returns it.`,
		examples: []string{
			"predikat assessments show --round ombudsman-2024 --institution pemkab-hss",
			"predikat assessments show --round ombudsman-2023 --institution pemkab-hss --json",
		},
		setup: cmdAssessmentsShow,
	},
	specSurveysImport, specSurveysShow, specSurveysList, specSurveysDefine, // surveys.go
	{
		path: "objections file", uses: useAssessment,
		summary: "object to an institution's provisional result (sanggahan)",
		about: `Files an objection to an institution's result in a CLOSED round, within
the objection window of the round's scheme version (working days after the
close, in the institution's province time zone, without weekends, national
holidays and cuti bersama). An institution's own account may object for its
institution only. --evidence may be repeated. Sent twice, the same objection
is filed once.`,
		examples: []string{
			`predikat objections file --round ombudsman-2024 --institution pemkab-hss --reasons "the complaint register of 2024 was not counted" --evidence "SK Bupati 12/2024"`,
		},
		setup: cmdObjectionsFile,
	},
	{
		path: "objections list", uses: useAssessment, read: true,
		summary:  "list a round's objections and when its last window ends",
		examples: []string{"predikat objections list --round ombudsman-2024", "predikat objections list --round ombudsman-2024 --state open --json"},
		setup:    cmdObjectionsList,
	},
	{
		path: "objections decide", args: "OBJECTION", uses: useAssessment,
		summary: "accept (with the corrected figure) or reject an objection",
		about: `Decides an OPEN objection. --accept needs the corrected result (--total or
--band): the record is corrected with the objection as its reason and
re-ranked. --reject keeps the record. A reviewer who recorded any revision
of the result may not decide. PublishRound waits until every objection is
decided and every window has ended (or a round manager forces it).`,
		examples: []string{
			`predikat objections decide obj-abcdefghijklmnop --round ombudsman-2024 --institution pemkab-hss --accept --total 97,10 --reasons "register verified"`,
			`predikat objections decide obj-abcdefghijklmnop --round ombudsman-2024 --institution pemkab-hss --reject --reasons "no evidence"`,
		},
		setup: cmdObjectionsDecide,
	},
	{
		path: "ceremonies create", uses: useAssessment,
		summary: "plan an award ceremony: name, place, date, province, host, presenter",
		about: `Plans a ceremony (PLANNED, no award yet): where and when, in which province
(its time zone; 00 for a national ceremony), who hosts it and who presents the
awards. Sent twice, the same ceremony is planned once.`,
		examples: []string{
			`predikat ceremonies create --name "Rapat Koordinasi Pelayanan Publik se-Kalimantan Selatan" --place "Gedung Mahligai Pancasila, Banjarmasin" --date 2025-04-17 --province 63 --host "Pemerintah Provinsi Kalimantan Selatan" --presented-by "Hasnuryadi Sulaiman" --office "Wakil Gubernur Kalimantan Selatan"`,
		},
		setup: cmdCeremoniesCreate,
	},
	{
		path: "ceremonies hold", args: "CEREMONY", uses: useAssessment,
		summary: "record a ceremony as held with the awards presented at it",
		about: `Records a PLANNED ceremony as held with the awards presented at it (each
granted, not revoked, and presented at no other ceremony); a CeremonyHeld
event follows. A held ceremony does not change; sending the same hold again
is the same answer.`,
		examples: []string{"predikat ceremonies hold cer-abcdefghijklmnop --award aw-abcdefghijklmnopqrstuvwxyz --award aw-bcdefghijklmnopqrstuvwxyza"},
		setup:    cmdCeremoniesHold,
	},
	{
		path: "ceremonies list", uses: useAssessment, read: true,
		summary:  "award ceremonies, newest first, with who received what",
		examples: []string{"predikat ceremonies list", "predikat ceremonies list --year 2025 --province 63", "predikat ceremonies list --json"},
		setup:    cmdCeremoniesList,
	},
	{
		path: "ceremonies show", args: "CEREMONY", uses: useAssessment, read: true,
		summary:  "one ceremony and every award presented: institution, title, score, band",
		examples: []string{"predikat ceremonies show cer-abcdefghijklmnop"},
		setup:    cmdCeremoniesShow,
	},
	{
		path: "certificates get", args: "AWARD", uses: useAssessment, read: true,
		summary: "the certificate (piagam) of an award as a PDF, with its verification code",
		about: `Writes the certificate of a standing award as a one-page PDF: institution,
award, score and band, the ceremony and presenter, and a verification code
that "certificates verify" resolves to the award. A revoked award has no
certificate.`,
		examples: []string{"predikat certificates get aw-abcdefghijklmnopqrstuvwxyz --out piagam.pdf"},
		setup:    cmdCertificatesGet,
	},
	{
		path: "certificates verify", args: "CODE", uses: useAssessment, read: true,
		summary: "check a certificate: the award its verification code resolves to",
		about: `Resolves the code printed on a certificate to the award as stored: compare
institution, title, score and ceremony with the paper. Case, spaces and
dashes do not matter; a revoked award is reported void.`,
		examples: []string{"predikat certificates verify PKT-7K3M-Q9XA-2BRT"},
		setup:    cmdCertificatesVerify,
	},
	{
		path: "board", uses: useRanking, read: true,
		summary: "a leaderboard: rank, institution, score, band",
		about: `Prints a leaderboard of a scheme, year and peer group, best first, with
competition ranks (equal scores share a rank). --province gives the board of
one province, otherwise the national board. Peer groups come from the scheme:
pemda (provincial, regency and city governments together, per province),
pemprov, pemkab, pemkot, kementerian, lembaga, polres, kantah, mpp
(and unit-layanan in SKM).
A board of a round that is not published yet is marked provisional.
With --json: one GetLeaderboardResponse (board, entries, total_entries).`,
		examples: []string{
			"predikat board --scheme ombudsman --year 2024 --group pemda --province 63",
			"predikat board --scheme ombudsman --year 2024 --group kantah --limit 10",
		},
		setup: cmdBoard,
	},
	{
		path: "standing", uses: useRanking, read: true,
		summary: "where an institution stands on every board, with movement",
		examples: []string{
			"predikat standing --institution pemkab-hss --scheme ombudsman --year 2024",
			"predikat standing --institution kantah-tanah-laut --scheme ombudsman --year 2024 --json",
		},
		setup: cmdStanding,
	},
	{
		path: "stats", uses: useRanking, read: true,
		summary: "count, mean, median, min, max, spread and bands of a board",
		examples: []string{
			"predikat stats --scheme ombudsman --year 2024 --group pemda --province 63",
			"predikat stats --scheme ombudsman --year 2024 --group polres --json",
		},
		setup: cmdStats,
	},
	{
		path: "history", uses: useAssessment | useRanking, read: true,
		summary: "an institution's results across years and schemes",
		about: `Without --scheme: the latest record of the institution in every round, newest
year first, across schemes (from the assessment service), with its source.
With --scheme: the institution's trend in that scheme, oldest first, with
score changes and ranks (from the ranking service).`,
		examples: []string{
			"predikat history --institution pemkab-hss",
			"predikat history --institution pemkab-hss --scheme ombudsman",
		},
		setup: cmdHistory,
	},
	{
		path: "awards list", uses: useAssessment, read: true,
		summary: "awards, newest ceremony first (an institution's award history)",
		about: `Lists awards, newest ceremony first, with what each rests on: a band, a rank,
a category, or a manual grant from a ceremony. Revoked awards are left out
unless --state revoked or --state all.`,
		examples: []string{
			"predikat awards list --institution pemkab-hss",
			"predikat awards list --province 63 --year 2024 --scheme ombudsman",
			"predikat awards list --date 2025-04-17 --json",
		},
		setup: cmdAwardsList,
	},
	{
		path: "awards grant", uses: useAssessment,
		summary: "grant a manual award presented at a ceremony",
		about: `Grants a manual award, e.g. one reported from a ceremony. The request id
makes it happen once: the same id for the same institution returns the award
already granted. Without --request-id one is derived from the institution,
title and ceremony, so running the same command twice grants once.
--score, --band, --rank and --peer-group need --scheme and --year.`,
		examples: []string{
			`predikat awards grant --institution pemkab-hss --title "Penghargaan Indeks Reformasi Birokrasi Tahun 2024, Predikat AA" --scheme rb --year 2024 --band AA --score 91,25 --ceremony "Rapat Koordinasi Pelayanan Publik se-Kalimantan Selatan" --place "Gedung Mahligai Pancasila, Banjarmasin" --date 2025-04-17 --presented-by "Hasnuryadi Sulaiman" --office "Wakil Gubernur Kalimantan Selatan"`,
		},
		setup: cmdAwardsGrant,
	},
	{
		path: "awards revoke", args: "AWARD_ID", uses: useAssessment,
		summary:  "withdraw an award with a reason",
		examples: []string{`predikat awards revoke aw-abcdefghijklmnopqrstuvwxyz --reason "granted to the wrong institution"`},
		setup:    cmdAwardsRevoke,
	},
	{
		path: "awards watch", uses: useNATS, read: true,
		summary: "print awards as they are granted (live, or catching up with --durable)",
		about: `Prints every award as it is granted. By default the watch is live: plain
NATS subscriptions to the award subjects, nothing left on the server, and
nothing shown that was granted while nobody watched.

--durable (or --name NAME) watches through a durable consumer on the AWARDS
stream instead: run the same watch again and you first get the awards
granted while you were away, then new ones (the first run starts with every
award so far). Its default name is the NATS user's own (the one consumer a
subscriber user may use). The server deletes a durable consumer nobody has
used for --expire (30 days); "predikat awards unwatch --name NAME" deletes
it now. Ctrl-C stops. With --json: one AwardGranted (or AwardRevoked) per
line.`,
		examples: []string{
			"predikat awards watch --province 63",
			"predikat awards watch --scheme ombudsman --year 2024 --kind kantah",
			"predikat awards watch --durable --province 63",
			"predikat awards watch --institution pemkab-hss --revoked --name hss-desk",
		},
		setup: cmdAwardsWatch,
	},
	{
		path: "awards unwatch", uses: useNATS,
		summary:  "delete a durable award watch (its consumer on the server)",
		about:    `Deletes the durable consumer of "awards watch --name NAME". Deleting takes a NATS user allowed to (the dev admin by default): a subscriber user may not delete consumers.`,
		examples: []string{"predikat awards unwatch --name hss-desk"},
		setup:    cmdAwardsUnwatch,
	},
	{
		path:    "token",
		summary: "print a dev bearer token for a role, signed with the dev PKI's key",
		about: `Prints a bearer token (an ES256 JWT) signed with the token key of the dev
PKI that "predikat dev" creates, for the stack that verifies with its JWKS.
The roles go into the token's groups; the dev policy (policy.yaml beside the
key) binds each group to the role of the same name. Pass the token with
--token or PREDIKAT_TOKEN to act with those roles instead of the dev admin
certificate.`,
		examples: []string{
			"predikat token --role reader",
			"predikat token --role assessor,round-manager --subject ayu --ttl 8h",
			`PREDIKAT_TOKEN=$(predikat token --role reader) predikat board --scheme ombudsman --year 2024 --group pemda`,
		},
		setup: cmdToken,
	},
}
