package sim

// Read-only views for tests that check what the simulator handed out
// (secret canaries) and whether scripted faults were hit.

// IssuedSecrets returns every secret the simulator knows: the session ids,
// CF access, id and refresh tokens, SSO passcodes and XSUAA access tokens it
// handed out so far, the client secrets of all client-secret keys and the
// private keys of all certificate keys (deleted ones included: a secret
// once revealed stays a secret) and the users' passwords. Tests scan cpikey's output for these; none may ever appear.
func (s *Server) IssuedSecrets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]bool{}
	var out []string
	add := func(v string) {
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	for _, v := range s.issued {
		add(v)
	}
	for _, k := range s.world.Keys {
		if k.KeyType == "client_id_secret" {
			add(s.world.clientSecret(k.GUID))
		}
	}
	for _, v := range s.issuedPrivateKeysLocked() {
		add(v)
	}
	for _, u := range s.world.Users {
		add(u.Password)
	}
	return out
}

// PendingFaults returns copies of the scripted faults not yet (fully)
// consumed, with Times and Skip as they stand now.
func (s *Server) PendingFaults() []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Fault, 0, len(s.faults))
	for _, f := range s.faults {
		out = append(out, *f)
	}
	return out
}
