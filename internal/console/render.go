package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strings"
	"time"
)

// view is what every page template gets.
type view struct {
	Title   string
	S       *session
	CSRF    string
	Tenant  string
	Section string // nav highlight: overview, tenant, roles, log, tokens, plans
	Tenants []string
	OIDC    bool
	Notice  string
	Data    any
}

var funcs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"join": strings.Join,
	"show": func(v any) string {
		if x, ok := v.([]any); ok {
			parts := make([]string, len(x))
			for i, e := range x {
				parts[i] = showValue(e)
			}
			return strings.Join(parts, "; ")
		}
		return showValue(v)
	},
	"sortedKeys": func(m map[string]any) []string {
		ks := make([]string, 0, len(m))
		for k := range m {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		return ks
	},
	"index1": func(m map[string]any, k string) any { return m[k] },
	"action": actionText,
}

// parseTemplates parses every page with the layout.
func (c *Console) parseTemplates() error {
	c.pages = map[string]*template.Template{}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return err
	}
	for _, n := range names {
		base := path.Base(n)
		if base == "layout.html" || base == "explain.html" {
			continue
		}
		t, err := template.New(base).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/explain.html", n)
		if err != nil {
			return fmt.Errorf("console: template %s: %w", base, err)
		}
		c.pages[strings.TrimSuffix(base, ".html")] = t
	}
	return nil
}

// render writes page with v (Title, Tenant, Data set by the caller).
func (c *Console) render(w http.ResponseWriter, r *http.Request, s *session, status int, page string, v view) {
	v.S, v.OIDC = s, c.oidcCfg.Enabled()
	if s != nil {
		v.CSRF = s.CSRF
		if ts, err := c.st.ListTenants(r.Context()); err == nil {
			for _, t := range ts {
				v.Tenants = append(v.Tenants, t.ID)
			}
		}
	}
	var b bytes.Buffer
	if err := c.pages[page].ExecuteTemplate(&b, "layout", v); err != nil {
		c.log.Error().Err(err).Str("page", page).Msg("console: template failed")
		http.Error(w, "internal error; see the server log", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// errorPage renders a message page with status.
func (c *Console) errorPage(w http.ResponseWriter, r *http.Request, s *session, status int, title, msg string) {
	c.render(w, r, s, status, "error", view{Title: title, Data: msg})
}

// showValue renders one attribute value for a page: a string as it is,
// anything else (a complex value such as an email or a name, a number, a
// boolean) as compact JSON, e.g. {"primary":true,"type":"work","value":"a@example.com"}.
// The template escapes the result like any other text.
func showValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}
