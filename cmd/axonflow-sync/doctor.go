package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/axonflow/axonflow-sync/internal/termtext"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/axonflow/axonflow-sync/internal/doctor"
)

const doctorUsage = `usage: axonflow-sync doctor --url https://HOST/scim/v2 (--token-file PATH | AXONFLOW_SYNC_DOCTOR_TOKEN='Bearer scim_...')
                           [--tenant ID] [--write-test] [--output human|json] [--timeout 15s]

Replays what Okta sends when it tests API credentials and imports users, and
diagnoses every problem with its fix. Read-only unless --write-test, which
also creates, updates, deactivates, reactivates and deletes a test user
(axonflow-doctor-...@example.invalid) and pushes and deletes a test group.
The token is read from a file (--token-file, - for standard input) or the
AXONFLOW_SYNC_DOCTOR_TOKEN environment variable, never from a flag (process
lists show flags).
Exit code: 0 when Okta would succeed, 1 when a check failed, 2 on usage errors.

`

// doctorTokenEnv is the environment variable doctor reads the
// Authorization value from (instead of --token-file).
const doctorTokenEnv = "AXONFLOW_SYNC_DOCTOR_TOKEN"

// doctor runs "axonflow-sync doctor". It needs no configuration or store:
// it is an HTTP client of any SCIM server.
func (e env) doctor(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprint(e.stderr, doctorUsage)
		fs.PrintDefaults()
	}
	rawURL := fs.String("url", "", "the SCIM Base URL exactly as entered in Okta, e.g. https://HOST/scim/v2")
	token := fs.String("token", "", "refused: process lists would show the token; use --token-file or "+doctorTokenEnv)
	tokenFile := fs.String("token-file", "", "read the Authorization value from this file (- for standard input)")
	tenant := fs.String("tenant", "", "fail unless the token belongs to this AxonFlow tenant")
	writeTest := fs.Bool("write-test", false, "also create, change and delete a test user and group")
	output := fs.String("output", "human", "human or json")
	timeout := fs.Duration("timeout", doctor.DefaultTimeout, "how long to wait for each response")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitConfig
	}
	usageErr := func(format string, a ...any) int {
		termtext.Fprintf(e.stderr, "axonflow-sync doctor: "+format+"\n\n", a...)
		fmt.Fprint(e.stderr, doctorUsage)
		return exitConfig
	}
	switch {
	case fs.NArg() > 0:
		return usageErr("unexpected argument %q", fs.Arg(0))
	case strings.TrimSpace(*rawURL) == "":
		return usageErr("--url is required (the SCIM Base URL, e.g. https://HOST/scim/v2)")
	case *token != "":
		return usageErr("--token is refused: process lists (ps) would show the token; put the Authorization value in a file and give --token-file PATH (- for standard input), or set %s", doctorTokenEnv)
	case e.getenv(doctorTokenEnv) != "" && *tokenFile != "":
		return usageErr("give %s or --token-file, not both", doctorTokenEnv)
	case strings.TrimSpace(e.getenv(doctorTokenEnv)) == "" && *tokenFile == "":
		return usageErr("--token-file PATH or %s is required (the Authorization value entered in Okta: 'Bearer scim_...')", doctorTokenEnv)
	case *output != "human" && *output != "json":
		return usageErr("--output must be human or json")
	case *timeout <= 0:
		return usageErr("--timeout must be positive")
	}
	auth := e.getenv(doctorTokenEnv)
	if *tokenFile != "" {
		var b []byte
		var err error
		if *tokenFile == "-" {
			b, err = io.ReadAll(io.LimitReader(os.Stdin, 64<<10))
		} else {
			b, err = os.ReadFile(*tokenFile)
		}
		if err != nil {
			return usageErr("reading --token-file: %v", err)
		}
		auth = strings.TrimRight(string(b), "\r\n")
	}
	if strings.TrimSpace(auth) == "" {
		return usageErr("the token is empty")
	}

	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	opts := doctor.Options{
		URL:           *rawURL,
		Authorization: auth,
		Tenant:        *tenant,
		WriteTest:     *writeTest,
		Timeout:       *timeout,
	}
	if *output == "human" {
		doctor.WriteHeader(e.stdout, opts)
		opts.Progress = func(c doctor.Check) { doctor.WriteCheck(e.stdout, c) }
	}
	start := time.Now()
	rep := doctor.Run(ctx, opts)
	if *output == "json" {
		if err := rep.WriteJSON(e.stdout); err != nil {
			termtext.Fprintf(e.stderr, "axonflow-sync doctor: %v\n", err)
			return exitFail
		}
	} else {
		rep.WriteSummary(e.stdout)
		termtext.Fprintf(e.stdout, "(%d checks in %s)\n", len(rep.Checks), time.Since(start).Round(time.Millisecond))
	}
	if !rep.OK() {
		return exitFail
	}
	return exitOK
}
