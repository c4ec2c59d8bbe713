package reports

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"jetstorm/checker"
)

// junit.xml: one testsuite named after the scenario with one testcase per
// check in results.json (a <failure> when the check's verdict is invalid,
// an <error> when unknown, <skipped> when skipped), one per server crash
// (a <failure>; a known crash is <skipped>, as pytest writes an expected
// failure: it happened, was waived, and stays visible as not passed) and
// one per sweep.json row (same rule, on the row's optional verdict).

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Name    string       `xml:"name,attr"`
	Tests   int          `xml:"tests,attr"`
	Fails   int          `xml:"failures,attr"`
	Errors  int          `xml:"errors,attr"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Fails      int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
	SystemOut  string          `xml:"system-out,omitempty"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// verdictCase fills in the failure or error for verdict v.
func verdictCase(c junitCase, v checker.Verdict, msg string) junitCase {
	switch v {
	case checker.Invalid:
		c.Failure = &junitProblem{Message: firstLine(msg), Type: string(v), Text: msg}
	case checker.Unknown:
		c.Error = &junitProblem{Message: firstLine(msg), Type: string(v), Text: msg}
	case checker.Skipped:
		c.Skipped = &junitSkipped{Message: firstLine(msg)}
	}
	return c
}

// crashCase is the test case of one server crash.
func crashCase(c checker.Crash, class string) junitCase {
	text := c.Title() + "\n"
	for _, f := range c.Stack {
		text += "    " + f + "\n"
	}
	text += "log: " + c.Log + "\n"
	jc := junitCase{Name: fmt.Sprintf("crash %s (%s)", c.Node, c.Log), Classname: class + ".crash", Time: "0", SystemOut: text}
	if c.Known != "" {
		jc.Skipped = &junitSkipped{Message: firstLine(fmt.Sprintf("known crash (check.known_crashes %q): %s", c.Known, c.Message))}
		return jc
	}
	jc.Failure = &junitProblem{Message: firstLine(c.Message), Type: "crash: " + c.Kind, Text: text}
	return jc
}

func firstLine(s string) string {
	const maxLen = 500
	for i, r := range s {
		if r == '\n' {
			s = s[:i]
			break
		}
	}
	if len(s) > maxLen {
		cut := maxLen
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return s
}

func (r *run) writeJUnit(w io.Writer) error {
	res := r.res
	name := res.Scenario
	if name == "" {
		name = "jetstorm"
	}
	s := junitSuite{Name: name, Time: fmtF(r.end.Seconds(), 3)}
	s.Properties = []junitProperty{
		{"verdict", string(res.Verdict)},
		{"seed", strconv.FormatUint(res.Seed, 10)},
		{"server_version", res.ServerVersion},
		{"sync_interval", res.SyncInterval},
		{"faults_injected", strconv.Itoa(res.FaultsInjected)},
	}
	class := "jetstorm." + name
	for _, c := range res.Checks {
		s.Cases = append(s.Cases, verdictCase(junitCase{Name: c.Name, Classname: class, Time: "0", SystemOut: c.Message}, c.Verdict, c.Message))
	}
	for _, c := range res.Crashes {
		s.Cases = append(s.Cases, crashCase(c, class))
	}
	s.Cases = append(s.Cases, r.benchCases(class)...)
	if sw := r.sweep; sw != nil {
		for _, row := range sw.Rows {
			out := fmt.Sprintf("throughput %.1f/s; pub-ack ms p50 %.3f p99 %.3f p99.9 %.3f; e2e p99 %.3f ms; %d errors; %d acked, %d lost",
				row.Throughput, row.PubAck.P50, row.PubAck.P99, row.PubAck.P999, row.E2E.P99, row.Errors, row.Acked, row.Lost)
			msg := row.Message
			if msg == "" {
				msg = out
			}
			c := junitCase{Name: fmt.Sprintf("sweep %s=%s", sw.Key, row.Value), Classname: class + ".sweep", Time: "0", SystemOut: out}
			s.Cases = append(s.Cases, verdictCase(c, row.Verdict, msg))
		}
	}
	for _, c := range s.Cases {
		s.Tests++
		if c.Failure != nil {
			s.Fails++
		}
		if c.Error != nil {
			s.Errors++
		}
		if c.Skipped != nil {
			s.Skipped++
		}
	}
	for _, e := range res.Errors {
		s.SystemOut += "run error: " + e + "\n"
	}
	doc := junitSuites{Name: "jetstorm", Tests: s.Tests, Fails: s.Fails, Errors: s.Errors, Suites: []junitSuite{s}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
