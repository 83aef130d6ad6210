package filter

import (
	"testing"

	oracle "github.com/scim2/filter-parser/v2"
)

const (
	benchSimple    = `userName eq "x"`
	benchValuePath = `members[value eq "x"]`
	// Within the oracle's supported subset, so both parsers do the same work.
	benchComplex = `userType eq "Employee" and (emails co "example.com" or emails.value co "example.org") or not (title pr) and emails[type eq "work" and value co "@example.com"]`
	benchPath    = `emails[type eq "work"].value`
)

var (
	sinkExpr Expr
	sinkPath Path
)

func benchParse(b *testing.B, s string) {
	b.ReportAllocs()
	for b.Loop() {
		e, err := Parse(s)
		if err != nil {
			b.Fatal(err)
		}
		sinkExpr = e
	}
}

func benchOracle(b *testing.B, s string) {
	raw := []byte(s)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := oracle.ParseFilter(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseSimple(b *testing.B)    { benchParse(b, benchSimple) }
func BenchmarkParseValuePath(b *testing.B) { benchParse(b, benchValuePath) }
func BenchmarkParseComplex(b *testing.B)   { benchParse(b, benchComplex) }

func BenchmarkParsePath(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		p, err := ParsePath(benchPath)
		if err != nil {
			b.Fatal(err)
		}
		sinkPath = p
	}
}

func BenchmarkOracleParseSimple(b *testing.B)    { benchOracle(b, benchSimple) }
func BenchmarkOracleParseValuePath(b *testing.B) { benchOracle(b, benchValuePath) }
func BenchmarkOracleParseComplex(b *testing.B)   { benchOracle(b, benchComplex) }

func BenchmarkOracleParsePath(b *testing.B) {
	raw := []byte(benchPath)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := oracle.ParsePath(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFormatComplex(b *testing.B) {
	e, err := Parse(benchComplex)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendFormat(buf[:0], e)
	}
}
