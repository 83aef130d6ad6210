package mapping

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
)

// stdJSON is what the responses were encoded with before AppendJSON:
// encoding/json's Encoder, HTML characters not escaped, newline trimmed.
func stdJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func checkSame(t *testing.T, v any) {
	t.Helper()
	want, werr := stdJSON(v)
	got, gerr := AppendJSON([]byte("prefix"), v)
	if (werr != nil) != (gerr != nil) {
		t.Fatalf("%#v: error %v, encoding/json %v", v, gerr, werr)
	}
	if werr != nil {
		if string(got) != "prefix" {
			t.Fatalf("%#v: dst changed on error: %q", v, got)
		}
		return
	}
	if !bytes.Equal(got, append([]byte("prefix"), want...)) {
		t.Fatalf("%#v:\n got %s\nwant prefix%s", v, got, want)
	}
}

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	type other struct {
		A string `json:"a"`
		B int
	}
	cases := []any{
		nil, true, false, "", "plain", `q"uote\back`, "\x00\x01\b\f\n\r\t\x1f\x7f", "<a href='x'>&amp;</a>",
		"\u2028\u2029", "é漢字🙂", "bad\xffutf8\xc3", "\xed\xa0\x80", // surrogate half: invalid UTF-8
		json.Number(""), json.Number("0"), json.Number("-1.5e+10"), json.Number("01"), json.Number("1."), json.Number(" 1"),
		json.Number("abc"), json.Number("-"), json.Number("1e"), json.Number("1E-2"),
		0.0, -0.0, 1.0, -1.5, 1e-6, 1e-7, 123456789.0, 1e20, 1e21, 1.2345e-9, math.MaxFloat64, math.SmallestNonzeroFloat64,
		math.NaN(), math.Inf(1), 3, int64(-7),
		[]any{}, []any(nil), []string{}, []string(nil), []string{"a", "<b>"},
		map[string]any{}, map[string]any(nil),
		map[string]any{"z": 1.0, "a": []any{map[string]any{"y": nil, "b": "x"}}, "m": map[string]any{"k": json.Number("2")}, "é": true, "A": false},
		other{A: "<x>", B: 2}, []any{other{}, map[string]int{"b": 1, "a": 2}},
		map[string]any{"bad": math.Inf(-1)},
		[]any{1, "x", nil, []any{[]any{}}},
	}
	for _, c := range cases {
		checkSame(t, c)
	}
}

func TestAppendJSONUserResource(t *testing.T) {
	u := &User{ID: "u1", Attrs: Attrs{"userName": "ada@example.com", "name": map[string]any{"givenName": "Ada", "familyName": "Lovelace"},
		"emails": []any{map[string]any{"value": "ada@example.com", "type": "work", "primary": true}}, "externalId": "00u1", "active": true}}
	checkSame(t, UserResource(u, "https://h/scim/v2", []Ref{{ID: "g1", Display: "Eng & Ops"}}))
}

// FuzzAppendJSON decodes arbitrary JSON the way the stores do (numbers as
// json.Number) and as float64, and requires AppendJSON to encode it exactly
// as encoding/json does; raw strings are checked as string values too.
func FuzzAppendJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5e-7,"x"],"b":{"c":null,"d":true}}`, `"\u2028<>&\ud800"`, `[1e21,-0,0.000001]`, `{"é":"\u0000"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkSame(t, s)
		d := json.NewDecoder(bytes.NewReader([]byte(s)))
		d.UseNumber()
		var v any
		if d.Decode(&v) == nil {
			checkSame(t, v)
		}
		var f any
		if json.Unmarshal([]byte(s), &f) == nil {
			checkSame(t, f)
		}
	})
}

func BenchmarkAppendJSONUser(b *testing.B) {
	u := &User{ID: "2819c223-7f76-453a-919d-413861904646", Attrs: Attrs{"userName": "ada.lovelace@example.com",
		"name": map[string]any{"givenName": "Ada", "familyName": "Lovelace"}, "displayName": "Ada Lovelace", "locale": "en-US",
		"emails": []any{map[string]any{"value": "ada.lovelace@example.com", "type": "work", "primary": true}}, "externalId": "00u1abcdefghijklmnop", "active": true}}
	res := UserResource(u, "https://scim.example.com/scim/v2", nil)
	b.Run("AppendJSON", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf, _ = AppendJSON(buf[:0], res)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = stdJSON(res)
		}
	})
}
