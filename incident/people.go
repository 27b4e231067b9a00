package incident

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"unicode"

	"github.com/google/uuid"
	"github.com/socq/socq/engine"
)

// socqNamespace makes the objectIds socq derives for people and rules: the
// same person or rule always gets the same objectId.
var socqNamespace = uuid.MustParse("0b6f4a63-5d2e-4c1a-9e7f-3a2b1c0d9e8f")

func derivedObjectID(kind, name string) string {
	return uuid.NewSHA1(socqNamespace, []byte(kind+":"+strings.ToLower(name))).String()
}

// resolvePerson turns "mei.lin@contoso.com" or "Mei Lin" into a Person. A
// person seen before as an owner in the history keeps the objectId, name
// and UPN recorded there (so ingested Sentinel identities carry over);
// otherwise a UPN gives a display name from its local part ("Mei Lin") and
// a name stays without UPN. The objectId of a new person is derived from
// the UPN or name, so it is stable.
func resolvePerson(ctx context.Context, tx *engine.Tx, who string) (Person, error) {
	who, err := checkOwnerShape("person", who)
	if err != nil {
		return Person{}, err
	}
	known, err := knownPerson(ctx, tx, who)
	if err != nil {
		return Person{}, err
	}
	if known != nil {
		return *known, nil
	}
	if strings.Contains(who, "@") {
		upn := who
		return Person{Email: &upn, Name: nameFromUPN(who), ObjectID: derivedObjectID("user", who), UserPrincipalName: &upn}, nil
	}
	return Person{Name: who, ObjectID: derivedObjectID("user", who)}, nil
}

// knownPerson finds who among the owners recorded in the history, by UPN,
// email or display name (case-insensitive); the latest record wins.
func knownPerson(ctx context.Context, tx *engine.Tx, who string) (*Person, error) {
	rows, err := tx.Query(ctx, `SELECT json_extract_string("Owner", '$.objectId'), json_extract_string("Owner", '$.email'),
		json_extract_string("Owner", '$.assignedTo'), json_extract_string("Owner", '$.userPrincipalName')
		FROM "SecurityIncident"
		WHERE lower(?) IN (lower(json_extract_string("Owner", '$.userPrincipalName')), lower(json_extract_string("Owner", '$.email')), lower(json_extract_string("Owner", '$.assignedTo')))
		ORDER BY "TimeGenerated" DESC LIMIT 1`, who)
	if err != nil {
		return nil, fmt.Errorf("look up %s among known owners: %w", who, err)
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, rows.Err()
	}
	var id, email, name, upn sql.NullString
	if err := rows.Scan(&id, &email, &name, &upn); err != nil {
		return nil, fmt.Errorf("look up %s among known owners: %w", who, err)
	}
	p := Person{Name: name.String, ObjectID: id.String, Email: nullable(email), UserPrincipalName: nullable(upn)}
	if p.Name == "" {
		p.Name = p.ModifiedBy()
	}
	if p.ObjectID == "" {
		p.ObjectID = derivedObjectID("user", p.ModifiedBy())
	}
	return &p, nil
}

func nullable(s sql.NullString) *string {
	if !s.Valid || s.String == "" {
		return nil
	}
	v := s.String
	return &v
}

// nameFromUPN makes a display name of a UPN's local part: "mei.lin" → "Mei Lin".
func nameFromUPN(upn string) string {
	local, _, _ := strings.Cut(upn, "@")
	parts := strings.FieldsFunc(local, func(r rune) bool { return r == '.' || r == '_' || r == '-' })
	for i, p := range parts {
		r := []rune(p)
		r[0] = unicode.ToUpper(r[0])
		parts[i] = string(r)
	}
	if len(parts) == 0 {
		return upn
	}
	return strings.Join(parts, " ")
}

// ownerOf is the Owner value assigning the incident to p.
func ownerOf(p Person) Owner {
	id, name := p.ObjectID, p.Name
	return Owner{ObjectID: &id, Email: p.Email, AssignedTo: &name, UserPrincipalName: p.UserPrincipalName, OwnerType: "User"}
}

// unassigned is the Owner of an incident without owner.
func unassigned() Owner { return Owner{OwnerType: "Unknown"} }

// rulePerson is an automation rule as the createdBy of its tasks.
func rulePerson(rule string) Person {
	return Person{Name: rule, ObjectID: derivedObjectID("rule", rule)}
}

// RuleModifiedBy is the ModifiedBy of a change an automation rule made.
func RuleModifiedBy(rule string) string { return "Automation rule - " + rule }
