package main

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// The simulator's cast: made-up people, companies, lines and notes, so that a
// dashboard under simulation looks like a working contact center. Phone numbers
// are in the 555-01xx range set aside for fiction.

var (
	firstNames = []string{"Ava", "Noah", "Mia", "Liam", "Zoe", "Omar", "Priya", "Mateo", "Hana", "Lucas",
		"Chloe", "Ethan", "Amara", "Diego", "Nora", "Kenji", "Sofia", "Isaac", "Leila", "Owen",
		"Grace", "Tariq", "Elena", "Felix", "Maya", "Jonah", "Ines", "Ravi", "Clara", "Milo"}
	lastNames = []string{"Nguyen", "Patel", "Garcia", "Smith", "Kowalski", "Okafor", "Johansson", "Rossi",
		"Tanaka", "Haddad", "Murphy", "Silva", "Cohen", "Dubois", "Kim", "Brown", "Fischer", "Novak",
		"Alvarez", "O'Brien", "Mensah", "Larsen", "Ivanova", "Chen", "Walker", "Costa", "Singh", "Moreau"}
	companies = []string{"Northwind Traders", "Contoso Dental", "Fabrikam Roofing", "Tailspin Toys",
		"Blue Yonder Travel", "Proseware Legal", "Litware Books", "Adventure Works Cycles",
		"Wingtip Florists", "Coho Vineyard", "Lamna Healthcare", "Trey Research", "Fourth Coffee",
		"Alpine Ski House", "Margie's Travel", "Wide World Importers"}
	agentNames = []string{"Dana Reyes", "Sam Ortiz", "Jordan Lee", "Alex Morgan", "Riley Chen",
		"Casey Brooks", "Taylor Kim", "Morgan Diaz", "Jamie Park", "Avery Scott", "Quinn Foster", "Rowan Hale"}
	lines = []struct{ id, name, queue string }{
		{"ep-support", "Support Line", "Support"},
		{"ep-sales", "Sales Line", "Sales"},
		{"ep-billing", "Billing Line", "Billing"},
		{"ep-main", "Main Number", "Front Desk"},
	}
	ivrChoices = []string{"1 (Sales)", "2 (Support)", "3 (Billing)", "0 (Operator)"}
	reasons    = []string{
		"Invoice %s was charged twice; caller wants a refund.",
		"Cannot sign in since the password reset; account locked?",
		"Wants to upgrade to the annual plan before %s renews.",
		"Delivery for order %s is three days late.",
		"Asks to move the appointment on the 14th to next week.",
		"Reports an outage at the downtown office since 9am.",
		"Requests a quote for 25 more seats.",
		"Disputes a late fee on invoice %s.",
		"Needs the W-9 and last year's statements emailed.",
		"Card on file expired; updating payment details.",
	}
	steps = []string{
		"Caller verified with ZIP code and date of birth.",
		"Sent knowledge-base article KB-%d to the caller.",
		"Opened ticket #%d.",
		"Checked order history: the last order shipped on time.",
		"Applied a courtesy credit of $25.",
		"Escalation note left for the team lead.",
		"Caller confirmed the email address on file.",
		"Scheduled a callback for tomorrow morning.",
	}
	outcomes = []string{"Resolved", "Resolved", "Resolved", "Callback scheduled", "Escalated", "Ticket opened", "Sale"}
)

func pick[T any](r *rand.Rand, list []T) T { return list[r.IntN(len(list))] }

// phone is a fictional North American number: +1 NPA 555-01XX.
func phone(r *rand.Rand) string {
	areas := []int{212, 312, 415, 503, 617, 702, 720, 737, 804, 919}
	return fmt.Sprintf("+1%d55501%02d", pick(r, areas), r.IntN(100))
}

func hexID(r *rand.Rand, prefix string) string {
	var b strings.Builder
	b.WriteString(prefix)
	for range 32 {
		b.WriteByte("0123456789abcdef"[r.IntN(16)])
	}
	return b.String()
}

func personName(r *rand.Rand) string { return pick(r, firstNames) + " " + pick(r, lastNames) }

// agentID turns "Dana Reyes" into "dana.reyes".
func agentID(name string) string {
	return strings.ToLower(strings.ReplaceAll(name, " ", "."))
}

// accountName turns "acme-1" into "Acme 1".
func accountName(id string) string {
	words := strings.FieldsFunc(id, func(r rune) bool { return r == '-' || r == '_' || r == '.' })
	for i, w := range words {
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	return strings.Join(words, " ")
}

// reason is why a customer calls, as the agent notes it.
func reason(r *rand.Rand) string {
	s := pick(r, reasons)
	if strings.Contains(s, "%s") {
		s = fmt.Sprintf(s, fmt.Sprintf("INV-%05d", r.IntN(100000)))
	}
	return s
}

// step is something an agent does during a call, as a log entry says it.
func step(r *rand.Rand) string {
	s := pick(r, steps)
	if strings.Contains(s, "%d") {
		s = fmt.Sprintf(s, 1000+r.IntN(9000))
	}
	return s
}
