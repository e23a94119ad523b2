package cli

// CommandNames lists the commands, for tests that go over all of them.
func CommandNames() []string {
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	return names
}
