package gen

// The fixed cast of the generated workspace: analytic rules, automation rules,
// playbooks and analysts. These tables are read-only data.

const (
	providerSentinel = "Azure Sentinel"
	providerDefender = "Microsoft 365 Defender"

	// TenantID is the workspace id every generated row carries.
	TenantID = "7d2f4c1e-9a3b-4e58-b1c6-0f8e2a5d9c37"

	subscriptionID = "3b9e6a1f-2c4d-4f7a-8e05-6d1c9b2a7f40"
	resourceGroup  = "rg-soc-prod"
	workspace      = "law-soc-prod"

	domain = "contoso.com"
)

// Severities.
const (
	High          = "High"
	Medium        = "Medium"
	Low           = "Low"
	Informational = "Informational"
)

// Incident statuses.
const (
	StatusNew    = "New"
	StatusActive = "Active"
	StatusClosed = "Closed"
)

// analyticRule is the detection an incident comes from.
type analyticRule struct {
	title       string
	description string // "" for Defender incidents, as Sentinel shows them
	severity    string
	weight      int    // relative frequency
	provider    string // providerSentinel or providerDefender
	products    []string
	tactics     []string
	techniques  []string
	maxAlerts   int // an incident groups 1..maxAlerts alerts
	automation  *automationRule
}

// automationRule adds a task list (and an AutoAssigned label) seconds after an
// incident is created.
type automationRule struct {
	name  string // "Phishing triage tasks"; ModifiedBy is "Automation rule - " + name
	label string
	tasks []taskTemplate
}

type taskTemplate struct {
	title       string
	description string // "" leaves the description out of the task
	playbook    *playbook
}

// playbook is a Logic App that completes one kind of task and comments on the
// incident. ModifiedBy is "Playbook - " + name.
type playbook struct {
	name    string
	comment string // fmt template, one %d for variety
}

var (
	enrichIP = &playbook{
		name:    "Enrich IP",
		comment: "Enrich IP: 203.0.113.%d (AS64500 Example Hosting) has reputation 'suspicious' and appears in 2 threat intelligence feeds.",
	}
	blockSender = &playbook{
		name:    "Block sender",
		comment: "Block sender: sender added to the tenant block list; %d matching messages soft-deleted.",
	}
	isolateDevice = &playbook{
		name:    "Isolate device",
		comment: "Isolate device: isolation requested for WS-%04d through Microsoft Defender for Endpoint.",
	}
)

var (
	identityTasks = &automationRule{
		name:  "Identity compromise tasks",
		label: "Identity",
		tasks: []taskTemplate{
			{"Confirm the sign-in with the user", "Reach the user through a trusted channel (phone, Teams) and confirm whether they signed in.", nil},
			{"Check the source IP against threat intelligence", "", enrichIP},
			{"Review the user's recent mailbox rules and MFA changes", "Look for new inbox rules, forwarding and MFA methods registered in the last 7 days.", nil},
			{"Revoke sessions and require MFA re-registration", "", nil},
		},
	}
	phishingTasks = &automationRule{
		name:  "Phishing triage tasks",
		label: "Phishing",
		tasks: []taskTemplate{
			{"Review the reported message headers", "Check SPF, DKIM and DMARC results and the sending infrastructure.", nil},
			{"Detonate attachments and URLs in the sandbox", "", nil},
			{"Block the sender and purge similar messages", "", blockSender},
			{"Reset the password if the user clicked", "Only if the click is confirmed in the URL click report.", nil},
		},
	}
	exfiltrationTasks = &automationRule{
		name:  "Data exfiltration tasks",
		label: "Exfiltration",
		tasks: []taskTemplate{
			{"Identify the files and sites involved", "", nil},
			{"Check the user's HR status with their manager", "Leavers and users under notice are the usual true positives.", nil},
			{"Notify the data owner", "", nil},
		},
	}
	endpointTasks = &automationRule{
		name:  "Endpoint triage tasks",
		label: "Endpoint",
		tasks: []taskTemplate{
			{"Isolate the device", "", isolateDevice},
			{"Collect an investigation package", "Collect from the device page in Microsoft Defender for Endpoint.", nil},
			{"Run a full antivirus scan", "", nil},
			{"Check for lateral movement from the device", "Search DeviceLogonEvents for logons from this device to other hosts.", nil},
		},
	}
	// autoClose closes some informational incidents as soon as they arrive.
	autoClose = &automationRule{name: "Auto-close informational alerts"}
)

var analyticRules = []analyticRule{
	{"Suspicious sign-in from unfamiliar location", "A user signed in from a country not seen for this account in the last 14 days.", Medium, 8, providerSentinel,
		[]string{"Azure Sentinel"}, []string{"InitialAccess"}, []string{"T1078"}, 3, identityTasks},
	{"Mass download by a single user", "A single user downloaded an unusually large number of files from SharePoint Online or OneDrive.", Medium, 4, providerSentinel,
		[]string{"Azure Sentinel"}, []string{"Exfiltration"}, []string{"T1530"}, 2, exfiltrationTasks},
	{"Phishing email reported by user", "A user reported a message with the Report Message add-in.", Low, 7, providerSentinel,
		[]string{"Azure Sentinel"}, []string{"InitialAccess"}, []string{"T1566"}, 1, phishingTasks},
	{"Brute force attack against Azure Portal", "Many failed Azure Portal sign-ins for one account from one IP address, followed by a success.", Medium, 4, providerSentinel,
		[]string{"Azure Sentinel"}, []string{"CredentialAccess"}, []string{"T1110"}, 4, identityTasks},
	{"Password spray attack against Microsoft Entra ID application", "", Medium, 3, providerSentinel,
		[]string{"Azure Sentinel"}, []string{"CredentialAccess"}, []string{"T1110"}, 6, identityTasks},
	{"Rare RDP connections", "A device made RDP connections to a host it has not connected to in the last 14 days.", Low, 5, providerSentinel,
		[]string{"Azure Sentinel"}, []string{"LateralMovement"}, []string{"T1021"}, 2, nil},
	{"User added to Microsoft Entra ID privileged groups", "A user was added to a privileged built-in group (Global Administrator, Privileged Role Administrator, ...).", High, 4, providerSentinel,
		[]string{"Azure Sentinel"}, []string{"Persistence", "PrivilegeEscalation"}, []string{"T1098", "T1078"}, 1, identityTasks},
	{"Malicious inbox rule", "An inbox rule that deletes or moves messages containing security keywords was created.", Medium, 3, providerSentinel,
		[]string{"Azure Sentinel"}, []string{"Persistence", "DefenseEvasion"}, []string{"T1137", "T1564"}, 1, identityTasks},
	{"Mail redirect via Exchange Online transport rule", "A transport rule redirecting mail to an external domain was created.", Medium, 2, providerSentinel,
		[]string{"Azure Sentinel"}, []string{"Collection", "Exfiltration"}, []string{"T1114", "T1020"}, 1, exfiltrationTasks},
	{"Multiple Teams deleted by a single user", "", Low, 2, providerSentinel,
		[]string{"Azure Sentinel"}, []string{"Impact"}, []string{"T1485", "T1489"}, 1, nil},
	{"Failed logon attempts by valid accounts within 10 mins", "More than 10 failed logons for a valid account within 10 minutes.", Low, 6, providerSentinel,
		[]string{"Azure Sentinel"}, []string{"CredentialAccess"}, []string{"T1110"}, 5, nil},
	{"TI map IP entity to SigninLogs", "A sign-in came from an IP address listed in threat intelligence.", Medium, 4, providerSentinel,
		[]string{"Azure Sentinel"}, []string{"CommandAndControl"}, []string{"T1071"}, 3, identityTasks},
	{"Anomalous sign-in location by user account and authenticating application", "", Informational, 8, providerSentinel,
		[]string{"Azure Sentinel"}, []string{"InitialAccess"}, []string{"T1078"}, 1, nil},
	{"Rare subscription-level operations in Azure", "Sensitive subscription-level operations by a caller who rarely performs them.", Low, 3, providerSentinel,
		[]string{"Azure Sentinel"}, []string{"CredentialAccess", "Persistence"}, []string{"T1003", "T1098"}, 2, nil},
	{"Azure Key Vault access TimeSeries anomaly", "Key Vault operations by one caller exceeded the expected volume.", Informational, 4, providerSentinel,
		[]string{"Azure Sentinel"}, []string{"CredentialAccess"}, []string{"T1003"}, 1, nil},
	{"Multi-stage incident involving Initial access & Execution on one endpoint", "", High, 5, providerDefender,
		[]string{"Microsoft Defender Advanced Threat Protection", "Office 365 Advanced Threat Protection"}, []string{"InitialAccess", "Execution"}, []string{"T1566", "T1204", "T1059"}, 8, endpointTasks},
	{"Multi-stage incident involving Execution & Defense evasion on multiple endpoints", "", High, 1, providerDefender,
		[]string{"Microsoft Defender Advanced Threat Protection"}, []string{"Execution", "DefenseEvasion"}, []string{"T1059", "T1562"}, 12, endpointTasks},
	{"Suspicious PowerShell command line on one endpoint", "", Medium, 3, providerDefender,
		[]string{"Microsoft Defender Advanced Threat Protection"}, []string{"Execution"}, []string{"T1059.001"}, 2, endpointTasks},
	{"Email reported by user as malware or phish", "", Informational, 6, providerDefender,
		[]string{"Office 365 Advanced Threat Protection"}, []string{"InitialAccess"}, []string{"T1566"}, 1, phishingTasks},
	{"Impossible travel activity involving one user", "", Medium, 3, providerDefender,
		[]string{"Microsoft Cloud App Security"}, []string{"InitialAccess"}, []string{"T1078"}, 2, identityTasks},
	{"Anonymous IP address involving one user", "", Low, 3, providerDefender,
		[]string{"Azure Active Directory Identity Protection"}, []string{"InitialAccess"}, []string{"T1078"}, 1, nil},
}

// analyst is a member of the SOC team.
type analyst struct {
	name string
	upn  string // also the email address
}

var team = []analyst{
	{"Priya Raman", "priya.raman@" + domain},
	{"Jonas Becker", "jonas.becker@" + domain},
	{"Aisha Okafor", "aisha.okafor@" + domain},
	{"Tomás Ruiz", "tomas.ruiz@" + domain},
	{"Mei Lin", "mei.lin@" + domain},
	{"Sam Carter", "sam.carter@" + domain},
}

// adHocTasks are tasks analysts add themselves while working an incident.
var adHocTasks = []taskTemplate{
	{"Ask the user whether they were travelling", "", nil},
	{"Escalate to the identity team", "Open a ticket in the IAM queue and link this incident.", nil},
	{"Follow up with the asset owner", "", nil},
	{"Check for the same indicator in other incidents", "Search the last 30 days of SecurityAlert for the IP, hash and sender.", nil},
	{"Document the findings in the case wiki", "", nil},
	{"Confirm the change with the requester", "Ask the requester for the change ticket number.", nil},
}

// userLabels are tags analysts add by hand.
var userLabels = []string{"VIP", "Escalated", "Needs follow-up", "Tier 2", "Known benign", "Pentest"}

var workComments = []string{
	"Checked the sign-in logs: the activity matches the user's usual devices.",
	"Contacted the user by phone, waiting for a reply.",
	"User confirmed the activity; they were working from a hotel.",
	"No further hits for this indicator in the last 30 days.",
	"Escalating to Tier 2 for a second look.",
	"Blocked the indicator at the proxy as a precaution.",
	"Related to change CHG-4821 (scheduled maintenance window).",
	"Device owner says the script is part of the nightly build.",
	"Pulled the mailbox audit log; no forwarding rules found.",
}

// closing is one of the close choices the portal offers: a classification,
// its reason (none for Undetermined) and typical comments.
type closing struct {
	classification string
	reason         string
	weight         int
	comments       []string
}

var closings = []closing{
	{"TruePositive", "SuspiciousActivity", 18, []string{
		"Confirmed compromise; password reset and sessions revoked.",
		"Malicious activity confirmed, remediation complete.",
	}},
	{"BenignPositive", "SuspiciousButExpected", 34, []string{
		"Authorized penetration test (engagement PT-2026-07).",
		"Expected admin activity, confirmed with the change owner.",
		"User was travelling; sign-in confirmed by phone.",
	}},
	{"FalsePositive", "IncorrectAlertLogic", 20, []string{
		"Rule fires on service accounts; tuning request raised.",
		"Threshold too low for this tenant; see tuning backlog.",
	}},
	{"FalsePositive", "InaccurateData", 10, []string{
		"IP geolocation was wrong (mobile carrier NAT).",
		"Threat intelligence entry for this IP has expired.",
	}},
	{"Undetermined", "", 18, []string{
		"Not enough data to decide; user unreachable.",
		"Logs for the period are incomplete; closing as undetermined.",
	}},
}
