// Package browser drives the bridge's status page in a real headless Chromium (Debian's chromium
// package; .ci/run installs it): the page renders without JavaScript of its own and shows what the
// bridge did a moment before. A screenshot is kept as a test artifact in $SCIM_TEST_ARTIFACTS
// (default: scim-bridge-artifacts in the system temporary directory); with
// SCIM_TEST_UPDATE_SCREENSHOT=1 it also replaces docs/status-page.png, the README's picture.
package browser

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/scim-bridge/scim-bridge/test/harness"
)

// chromium finds a Chromium or Chrome executable, or "".
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

func scim(t *testing.T, b *harness.Bridge, method, path, body string) map[string]any {
	t.Helper()
	resp := b.SCIM.Do(t, method, path, body)
	if resp.Status >= 300 {
		t.Fatalf("%s %s = %d", method, path, resp.Status)
	}
	return resp.Doc
}

func user(userName, given, family string) string {
	return `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"` + userName + `","name":{"givenName":"` + given +
		`","familyName":"` + family + `"},"emails":[{"value":"` + userName + `","type":"work","primary":true}],"active":true}`
}

func TestStatusPageInChromium(t *testing.T) {
	exe := chromium()
	if exe == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed (CI is set): .ci/run installs Debian's chromium package")
		}
		t.Skip("chromium is not installed; apt-get install chromium to run the status page in a browser")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	d := harness.Start(t, harness.Options{
		Token: "browser-token-0123456789abcdef", AdminListen: "127.0.0.1:0",
		Config: "audit: {identify_users: true}\nprovisioning: {permission_sets: overwrite}\n",
	})

	// What an IdP does in its first minute: create people, put one in a group, deactivate one.
	ada := scim(t, d, http.MethodPost, "/Users", user("ada.lovelace@example.com", "Ada", "Lovelace"))["id"].(string)
	grace := scim(t, d, http.MethodPost, "/Users", user("grace.hopper@example.com", "Grace", "Hopper"))["id"].(string)
	groups := scim(t, d, http.MethodGet, "/Groups?filter="+strings.ReplaceAll(`displayName eq "Sales Operations"`, " ", "%20")+"&excludedAttributes=members", "")
	group := groups["Resources"].([]any)[0].(map[string]any)["id"].(string)
	scim(t, d, http.MethodPatch, "/Groups/"+group, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"`+ada+`"},{"value":"`+grace+`"}]}]}`)
	scim(t, d, http.MethodPatch, "/Users/"+grace, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"False"}]}`)
	// The one the test looks for: created a moment before the page is opened.
	katherine := scim(t, d, http.MethodPost, "/Users", user("katherine.johnson@example.com", "Katherine", "Johnson"))["id"].(string)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1280, 900))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()

	if err := chromedp.Do(browser,
		chromedp.Navigate(d.AdminURL+"/status"),
		chromedp.WaitVisible(chromedp.CSS("#audit table")),
		chromedp.WaitVisible(chromedp.CSS("#allowance svg")),
	); err != nil {
		t.Fatalf("opening the status page in Chromium: %v", err)
	}
	title := run(t, browser, chromedp.Title())
	audit := run(t, browser, chromedp.Text(chromedp.CSS("#audit")))
	connection := run(t, browser, chromedp.Text(chromedp.CSS("#salesforce")))
	shot := run(t, browser, chromedp.FullScreenshot(100))
	if title != "scim-bridge status" {
		t.Errorf("title = %q", title)
	}
	for _, want := range []string{"create_user", katherine, "katherine.johnson@example.com", "add_members", "disable_user", "demo"} {
		if !strings.Contains(audit, want) {
			t.Errorf("the audit table in the browser does not show %q:\n%s", want, audit)
		}
	}
	if !strings.Contains(connection, "up") {
		t.Errorf("the Salesforce section does not say the connection is up:\n%s", connection)
	}
	if len(shot) < 1000 || string(shot[1:4]) != "PNG" {
		t.Fatalf("the screenshot is not a PNG (%d bytes)", len(shot))
	}
	keep(t, shot)
}

// run runs one browser action and returns its value.
func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("driving Chromium: %v", err)
	}
	return v
}

// keep stores the screenshot as a test artifact, and as the README's picture when asked to.
func keep(t *testing.T, png []byte) {
	t.Helper()
	dir := os.Getenv("SCIM_TEST_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "scim-bridge-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("artifacts directory: %v", err)
	}
	path := filepath.Join(dir, "status-page.png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatalf("writing the screenshot: %v", err)
	}
	t.Logf("screenshot: %s", path)
	if os.Getenv("SCIM_TEST_UPDATE_SCREENSHOT") == "1" {
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "status-page.png"), png, 0o644); err != nil {
			t.Fatalf("updating docs/status-page.png: %v", err)
		}
	}
}
