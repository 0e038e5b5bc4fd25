package app

// The deployment files (Dockerfile, deploy/, docs/deploy.md's docker run) are checked here against
// the binary's own commands, configuration keys, environment variables, port and probe paths, so
// that they cannot rot.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

const repoRoot = "../../.."

// knownVariable reports whether the binary reads the environment variable name (the same check that
// refuses a misspelt SCIM_BRIDGE_* variable at start).
func knownVariable(name string) bool {
	cfg := defaultConfig()
	for _, p := range applyEnvironment(&cfg, map[string]string{name: "x"}) {
		if strings.Contains(p.Error(), "names no configuration key") {
			return false
		}
	}
	return strings.HasPrefix(name, "SCIM_BRIDGE_")
}

// knownCommand reports whether `scim-bridge <cmd> -h` is a command with help.
func knownCommand(cmd string) bool {
	return Run(context.Background(), []string{cmd, "-h"}, nil, io.Discard, io.Discard) == nil
}

// commandFlags returns the help text of `scim-bridge <cmd> -h`.
func commandHelp(cmd string) string {
	var out bytes.Buffer
	_ = Run(context.Background(), []string{cmd, "-h"}, nil, &out, &out)
	return out.String()
}

// probePathsServed checks that the bridge answers these paths with 200 once ready.
func probePathsServed(t *testing.T, paths ...string) {
	t.Helper()
	d, err := StartDemo(context.Background(), DemoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, p := range paths {
		if code, body := get(http.DefaultClient, d.URL+p); code != 200 {
			t.Errorf("GET %s on the bridge = %d %s; want 200", p, code, body)
		}
	}
}

// dig walks decoded YAML by map keys and list indices; nil when a step is missing.
func dig(v any, steps ...any) any {
	for _, s := range steps {
		switch k := s.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func str(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

func decodeAll(t *testing.T, file string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var docs []map[string]any
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if doc != nil {
			docs = append(docs, doc)
		}
	}
}

// decodeConfigFile decodes a deployment's config file as serve does: unknown keys and wrong types
// are failures.
func decodeConfigFile(t *testing.T, file string) Config {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := yamlSyntax(data); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	cfg := defaultConfig()
	if probs := decodeYAML(data, &cfg); len(probs) > 0 {
		t.Fatalf("%s: %v", file, probs.err())
	}
	return cfg
}

// under reports whether file is inside dir.
func under(file, dir string) bool {
	rel, err := filepath.Rel(dir, file)
	return err == nil && !strings.HasPrefix(rel, "..") && rel != "."
}

// withFakeRoot rewrites absolute paths in env and a config's file paths into a temporary directory,
// creating each named secret file, so that loadConfig can run the deployment's exact settings.
func withFakeRoot(t *testing.T, env map[string]string, secretDirs ...string) (map[string]string, func(string) string) {
	t.Helper()
	root := t.TempDir()
	remap := func(p string) string {
		if !filepath.IsAbs(p) {
			return p
		}
		q := filepath.Join(root, p)
		for _, d := range secretDirs {
			if under(p, d) {
				_ = os.MkdirAll(filepath.Dir(q), 0o700)
				if _, err := os.Stat(q); err != nil {
					_ = os.WriteFile(q, []byte("a-secret-value-0123456789\n"), 0o600)
				}
			}
		}
		_ = os.MkdirAll(filepath.Dir(q), 0o700)
		return q
	}
	out := map[string]string{}
	for k, v := range env {
		if strings.HasSuffix(k, "_FILE") || k == "SCIM_BRIDGE_CONFIG" || strings.HasSuffix(k, "_TOKEN_FILE") {
			v = remap(v)
		}
		out[k] = v
	}
	return out, remap
}

// loadRemapped runs loadConfig on a config file whose absolute paths are remapped by remap.
func loadRemapped(t *testing.T, file string, env map[string]string, remap func(string) string) (Config, error) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	text := regexp.MustCompile(`(token_file|cert_file|key_file|private_key_file): (/\S+)`).ReplaceAllStringFunc(string(data), func(m string) string {
		k, v, _ := strings.Cut(m, ": ")
		return k + ": " + remap(v)
	})
	return loadConfig(writeFile(t, "config.yaml", text), env, "", forServe)
}

func listenPort(t *testing.T, listen string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(listen)
	if err != nil {
		t.Fatalf("listen %q: %v", listen, err)
	}
	return port
}

// dockerfile is the parsed Dockerfile: instructions of the final stage, and the whole text.
type dockerfile struct {
	text  string
	final map[string][]string // instruction → arguments, in order
}

func readDockerfile(t *testing.T) dockerfile {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(data), "\\\n", " ")
	df := dockerfile{text: text}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		instr, args, _ := strings.Cut(line, " ")
		instr = strings.ToUpper(instr)
		if instr == "FROM" {
			df.final = map[string][]string{}
		}
		df.final[instr] = append(df.final[instr], strings.Join(strings.Fields(args), " "))
	}
	return df
}

func TestDockerfile(t *testing.T) {
	df := readDockerfile(t)
	f := df.final
	if from := f["FROM"]; len(from) != 1 || !strings.HasPrefix(from[0], "gcr.io/distroless/static") {
		t.Errorf("final stage FROM %v; want distroless static", from)
	}
	if f["USER"] == nil || f["USER"][0] != "65532:65532" {
		t.Errorf("USER %v; want 65532:65532 (distroless nonroot)", f["USER"])
	}
	if got := f["ENTRYPOINT"]; len(got) != 1 || got[0] != `["/scim-bridge"]` {
		t.Errorf("ENTRYPOINT %v; want [\"/scim-bridge\"]", got)
	}
	if !slices.Contains(f["COPY"], "--from=build /out/scim-bridge /scim-bridge") {
		t.Errorf("the binary is not copied to /scim-bridge: COPY %v", f["COPY"])
	}
	hc := strings.Join(f["HEALTHCHECK"], " ")
	m := regexp.MustCompile(`CMD \["/scim-bridge", "([a-z]+)"\]`).FindStringSubmatch(hc)
	if m == nil || m[1] != "healthcheck" || !knownCommand(m[1]) {
		t.Errorf("HEALTHCHECK %q; want CMD [\"/scim-bridge\", \"healthcheck\"], a command the binary has", hc)
	}
	if got := f["CMD"]; len(got) != 1 || got[0] != `["serve"]` {
		t.Errorf("CMD %v; want [\"serve\"]", got)
	}
	env := map[string]string{}
	for _, e := range f["ENV"] {
		for _, kv := range strings.Fields(e) {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
			if !knownVariable(k) {
				t.Errorf("ENV %s is not a variable the binary reads", k)
			}
		}
	}
	if p := listenPort(t, env["SCIM_BRIDGE_LISTEN"]); f["EXPOSE"] == nil || f["EXPOSE"][0] != p {
		t.Errorf("EXPOSE %v; want the port of SCIM_BRIDGE_LISTEN (%s)", f["EXPOSE"], p)
	}
	if env["SCIM_BRIDGE_LOG_FORMAT"] != "json" {
		t.Error("the image does not set SCIM_BRIDGE_LOG_FORMAT=json (docker run -t would log console lines)")
	}
	for _, label := range []string{"org.opencontainers.image.source=", "org.opencontainers.image.version=\"${VERSION}\"", "org.opencontainers.image.licenses=\"Apache-2.0\""} {
		if !strings.Contains(strings.Join(f["LABEL"], " "), label) {
			t.Errorf("LABEL lacks %s", label)
		}
	}
	versionVar := reflect.TypeOf(Config{}).PkgPath() + ".Version"
	for _, want := range []string{"ARG TARGETOS", "ARG TARGETARCH", "GOOS=$TARGETOS", "GOARCH=$TARGETARCH", "CGO_ENABLED=0",
		"-X " + versionVar + "=${VERSION}", "--platform=$BUILDPLATFORM"} {
		if !strings.Contains(df.text, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	if !slices.ContainsFunc(f["COPY"], func(c string) bool {
		return strings.HasSuffix(c, "--chown=65532:65532 /out/state /var/lib/scim-bridge")
	}) {
		t.Errorf("/var/lib/scim-bridge (token_file) is not owned by the image's user: COPY %v", f["COPY"])
	}
	if lic, err := os.ReadFile(filepath.Join(repoRoot, "LICENSE")); err != nil || !strings.Contains(string(lic), "Apache License\n                           Version 2.0") {
		t.Errorf("LICENSE is not the Apache License 2.0 the image label names (%v)", err)
	}
}

// k8s is the kustomize base, decoded.
type k8s struct {
	dir     string
	kustom  map[string]any
	objects map[string]map[string]any // kind → object (one of each)
}

func readK8s(t *testing.T) k8s {
	t.Helper()
	k := k8s{dir: filepath.Join(repoRoot, "deploy", "kubernetes"), objects: map[string]map[string]any{}}
	k.kustom = decodeAll(t, filepath.Join(k.dir, "kustomization.yaml"))[0]
	var listed []string
	for _, r := range dig(k.kustom, "resources").([]any) {
		listed = append(listed, str(r))
		for _, doc := range decodeAll(t, filepath.Join(k.dir, str(r))) {
			kind := str(doc["kind"])
			if _, dup := k.objects[kind]; dup {
				t.Fatalf("two %s objects", kind)
			}
			k.objects[kind] = doc
		}
	}
	// Every manifest in the directory is part of the base (nothing left behind by a rename).
	files, _ := filepath.Glob(filepath.Join(k.dir, "*.yaml"))
	for _, f := range files {
		name := filepath.Base(f)
		if name != "kustomization.yaml" && name != "config.yaml" && !slices.Contains(listed, name) {
			t.Errorf("deploy/kubernetes/%s is not listed in kustomization.yaml", name)
		}
	}
	return k
}

func TestKubernetesManifests(t *testing.T) {
	k := readK8s(t)
	for _, kind := range []string{"Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy", "PersistentVolumeClaim"} {
		if k.objects[kind] == nil {
			t.Fatalf("the base has no %s", kind)
		}
	}
	dep := k.objects["Deployment"]
	pod := dig(dep, "spec", "template", "spec")
	podLabels := dig(dep, "spec", "template", "metadata", "labels").(map[string]any)
	c := dig(pod, "containers", 0)
	if n := dig(dep, "spec", "replicas"); n != 2 {
		t.Errorf("replicas = %v; want 2", n)
	}
	if args := dig(c, "args"); !knownCommand(str(dig(args, 0))) {
		t.Errorf("container args %v do not start with a command of the binary", args)
	}

	// Environment: every variable is one the binary reads; the listen port is the container port.
	env := map[string]string{}
	for _, e := range dig(c, "env").([]any) {
		name := str(dig(e, "name"))
		if !knownVariable(name) {
			t.Errorf("env %s is not a variable the binary reads", name)
		}
		env[name] = str(dig(e, "value"))
	}
	ports := map[string]string{}
	for _, p := range dig(c, "ports").([]any) {
		ports[str(dig(p, "name"))] = str(dig(p, "containerPort"))
	}
	if ports["http"] != listenPort(t, env["SCIM_BRIDGE_LISTEN"]) {
		t.Errorf("containerPort http = %s; want SCIM_BRIDGE_LISTEN's port", ports["http"])
	}

	// Probes: the paths the bridge serves, on the named port.
	for probe, want := range map[string]string{"livenessProbe": "/healthz", "readinessProbe": "/readyz"} {
		if p, port := str(dig(c, probe, "httpGet", "path")), str(dig(c, probe, "httpGet", "port")); p != want || ports[port] == "" {
			t.Errorf("%s = %s on port %q; want %s on a named container port", probe, p, port, want)
		}
	}
	probePathsServed(t, "/healthz", "/readyz")

	// Volumes: secrets read-only from the Secret, the config from the generated ConfigMap, the
	// token_file directory writable on the claim.
	volumes := map[string]map[string]any{}
	for _, v := range dig(pod, "volumes").([]any) {
		volumes[str(dig(v, "name"))] = v.(map[string]any)
	}
	mounts := map[string]map[string]any{} // mountPath → mount
	for _, m := range dig(c, "volumeMounts").([]any) {
		mounts[str(dig(m, "mountPath"))] = m.(map[string]any)
	}
	volumeAt := func(file string) (map[string]any, map[string]any) {
		for dir, m := range mounts {
			if under(file, dir) {
				return m, volumes[str(m["name"])]
			}
		}
		return nil, nil
	}
	var secretDirs []string
	for name, value := range env {
		if !strings.HasSuffix(name, "_FILE") {
			continue
		}
		m, v := volumeAt(value)
		if m == nil || v["secret"] == nil || m["readOnly"] != true {
			t.Errorf("%s=%s is not on a read-only Secret volume", name, value)
			continue
		}
		secretDirs = append(secretDirs, str(m["mountPath"]))
	}
	cfgFile := env["SCIM_BRIDGE_CONFIG"]
	if m, v := volumeAt(cfgFile); m == nil || str(dig(v, "configMap", "name")) != str(dig(k.kustom, "configMapGenerator", 0, "name")) ||
		filepath.Base(cfgFile) != path.Base(str(dig(k.kustom, "configMapGenerator", 0, "files", 0))) {
		t.Errorf("SCIM_BRIDGE_CONFIG=%s is not the generated ConfigMap's file", cfgFile)
	}
	cfg := decodeConfigFile(t, filepath.Join(k.dir, "config.yaml"))
	for i, tok := range cfg.Auth.Tokens {
		if m, v := volumeAt(tok.TokenFile); m == nil || v["secret"] == nil {
			t.Errorf("auth.tokens[%d].token_file %s is not on the Secret volume", i, tok.TokenFile)
		}
	}
	if tf := cfg.Salesforce.TokenFile; tf != "" {
		m, v := volumeAt(tf)
		claim := str(dig(v, "persistentVolumeClaim", "claimName"))
		if m == nil || m["readOnly"] == true || claim != str(dig(k.objects["PersistentVolumeClaim"], "metadata", "name")) {
			t.Errorf("salesforce.token_file %s is not on the writable claim", tf)
		}
		if !slices.Contains(dig(k.objects["PersistentVolumeClaim"], "spec", "accessModes").([]any), any("ReadWriteMany")) {
			t.Error("the token_file claim is not ReadWriteMany: two replicas share the rotated refresh token")
		}
	}
	// The deployment's exact configuration loads.
	fakeEnv, remap := withFakeRoot(t, env, secretDirs...)
	for _, tok := range cfg.Auth.Tokens {
		remap(tok.TokenFile)
	}
	delete(fakeEnv, "SCIM_BRIDGE_CONFIG")
	if _, err := loadRemapped(t, filepath.Join(k.dir, "config.yaml"), fakeEnv, remap); err != nil {
		t.Errorf("the Kubernetes configuration does not load: %v", err)
	}

	// Shutdown fits in the grace period: preStop sleep, then shutdown_delay, then the drain.
	preStop := time.Duration(0)
	if s, ok := dig(c, "lifecycle", "preStop", "sleep", "seconds").(int); ok {
		preStop = time.Duration(s) * time.Second
	} else {
		t.Error("no preStop sleep: the Service and Ingress would still route to a stopping pod")
	}
	grace, _ := dig(pod, "terminationGracePeriodSeconds").(int)
	if need := preStop + cfg.ShutdownDelay + drainTimeout; time.Duration(grace)*time.Second < need {
		t.Errorf("terminationGracePeriodSeconds %d < preStop %v + shutdown_delay %v + drain %v", grace, preStop, cfg.ShutdownDelay, drainTimeout)
	}

	// Non-root, read-only, no privileges: and the user the image runs as.
	if dig(pod, "securityContext", "runAsNonRoot") != true || str(dig(pod, "securityContext", "runAsUser")) != "65532" {
		t.Error("the pod does not run as the image's non-root user 65532")
	}
	if dig(c, "securityContext", "readOnlyRootFilesystem") != true || dig(c, "securityContext", "allowPrivilegeEscalation") != false ||
		str(dig(c, "securityContext", "capabilities", "drop", 0)) != "ALL" {
		t.Error("the container is not read-only without privileges")
	}

	// Service, PDB and NetworkPolicy select these pods and use the named port.
	selects := func(kind string, sel any) {
		m, _ := sel.(map[string]any)
		if len(m) == 0 {
			t.Errorf("%s selects nothing", kind)
		}
		for k, v := range m {
			if podLabels[k] != v {
				t.Errorf("%s selector %s=%v does not match the pod's labels %v", kind, k, v, podLabels)
			}
		}
	}
	selects("Service", dig(k.objects["Service"], "spec", "selector"))
	selects("PodDisruptionBudget", dig(k.objects["PodDisruptionBudget"], "spec", "selector", "matchLabels"))
	selects("NetworkPolicy", dig(k.objects["NetworkPolicy"], "spec", "podSelector", "matchLabels"))
	if tp := str(dig(k.objects["Service"], "spec", "ports", 0, "targetPort")); ports[tp] == "" {
		t.Errorf("Service targetPort %q is no container port name", tp)
	}
	if p := str(dig(k.objects["NetworkPolicy"], "spec", "ingress", 0, "ports", 0, "port")); ports[p] == "" {
		t.Errorf("NetworkPolicy ingress port %q is no container port name", p)
	}
	if minAvail, _ := dig(k.objects["PodDisruptionBudget"], "spec", "minAvailable").(int); minAvail < 1 || minAvail >= 2 {
		t.Errorf("PodDisruptionBudget minAvailable %d; want 1 of 2 replicas", minAvail)
	}

	// Where kubectl is installed, kustomize itself must accept the base (the checks above do not
	// need it).
	if kubectl, err := exec.LookPath("kubectl"); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, kubectl, "kustomize", k.dir).CombinedOutput()
		if err != nil || !bytes.Contains(out, []byte("image: ghcr.io/scim-bridge/scim-bridge:")) {
			t.Errorf("kubectl kustomize deploy/kubernetes: %v\n%s", err, out)
		}
	}
}

func TestComposeFile(t *testing.T) {
	doc := decodeAll(t, filepath.Join(repoRoot, "deploy", "docker-compose.yaml"))[0]
	bridge, emu := dig(doc, "services", "bridge"), dig(doc, "services", "emulator")
	if bridge == nil || emu == nil {
		t.Fatal("compose file lacks the bridge or emulator service")
	}
	if hc := fmt.Sprint(dig(bridge, "healthcheck", "test")); hc != "[CMD /scim-bridge healthcheck]" {
		t.Errorf("bridge healthcheck %s; want [CMD /scim-bridge healthcheck]", hc)
	}
	env := map[string]string{}
	for k, v := range dig(bridge, "environment").(map[string]any) {
		if !knownVariable(k) {
			t.Errorf("bridge environment %s is not a variable the binary reads", k)
		}
		env[k] = os.Expand(str(v), func(s string) string { // ${VAR:-default}
			_, def, _ := strings.Cut(s, ":-")
			return def
		})
	}
	var cmd []string
	for _, a := range dig(emu, "command").([]any) {
		cmd = append(cmd, str(a))
	}
	if cmd[0] != "emulator" || !knownCommand("emulator") {
		t.Fatalf("emulator command %v", cmd)
	}
	help := commandHelp("emulator")
	for _, a := range cmd[1:] {
		if strings.HasPrefix(a, "--") && !strings.Contains(help, "-"+strings.TrimLeft(a, "-")) {
			t.Errorf("emulator flag %s is unknown", a)
		}
	}
	// The bridge shares the emulator's network namespace and its published port is the listen port.
	if dig(bridge, "network_mode") != "service:emulator" {
		t.Error("the bridge must share the emulator's network namespace (http:// to Salesforce is loopback-only)")
	}
	if pub := str(dig(emu, "ports", 0)); !strings.HasSuffix(pub, ":"+listenPort(t, env["SCIM_BRIDGE_LISTEN"])) {
		t.Errorf("published port %s is not SCIM_BRIDGE_LISTEN's port", pub)
	}
	// The root file system is read-only: token_file needs a writable mount for the image's user.
	tokenDir := filepath.Dir(env["SCIM_BRIDGE_SALESFORCE_TOKEN_FILE"])
	if tmpfs := str(dig(bridge, "tmpfs", 0)); !strings.HasPrefix(tmpfs, tokenDir+":") || !strings.Contains(tmpfs, "uid=65532") {
		t.Errorf("no writable tmpfs for the image's user holds SCIM_BRIDGE_SALESFORCE_TOKEN_FILE (%s): tmpfs %v", tokenDir, dig(bridge, "tmpfs"))
	}
	if dig(bridge, "read_only") != true {
		t.Error("the bridge's root file system is not read-only")
	}

	// Run the two services as the compose file says, on free loopback ports, and ask as a user would.
	emuAddr, bridgeAddr := freeAddr(t), freeAddr(t)
	for i, a := range cmd {
		if i > 0 && cmd[i-1] == "--listen" {
			if env["SCIM_BRIDGE_SALESFORCE_URL"] != "http://127.0.0.1:"+listenPort(t, a) {
				t.Errorf("SCIM_BRIDGE_SALESFORCE_URL %s is not the emulator's --listen %s on loopback", env["SCIM_BRIDGE_SALESFORCE_URL"], a)
			}
			cmd[i] = emuAddr
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	emuDone := make(chan error, 1)
	go func() { emuDone <- Run(ctx, cmd, nil, io.Discard, io.Discard) }()
	defer func() { cancel(); <-emuDone }()
	env["SCIM_BRIDGE_SALESFORCE_URL"] = "http://" + emuAddr
	env["SCIM_BRIDGE_LISTEN"] = bridgeAddr
	env["SCIM_BRIDGE_SALESFORCE_TOKEN_FILE"] = filepath.Join(t.TempDir(), "refresh-token")
	env["SCIM_BRIDGE_SHUTDOWN_DELAY"] = "0s"
	var envList []string
	for k, v := range env {
		envList = append(envList, k+"="+v)
	}
	waitFor(t, "the emulator", func() bool {
		code, _ := get(http.DefaultClient, "http://"+emuAddr+"/services/data/")
		return code == 200
	})
	bridgeDone := make(chan error, 1)
	go func() { bridgeDone <- Run(ctx, []string{"serve"}, envList, io.Discard, io.Discard) }()
	defer func() { cancel(); <-bridgeDone }()
	waitFor(t, "the bridge's healthcheck", func() bool {
		return Run(context.Background(), []string{"healthcheck"}, envList, io.Discard, io.Discard) == nil
	})
	waitFor(t, "/readyz", func() bool { code, _ := get(http.DefaultClient, "http://"+bridgeAddr+"/readyz"); return code == 200 })
	if code := scimGet(http.DefaultClient, "http://"+bridgeAddr+"/scim/v2/Users?count=5", env["SCIM_BRIDGE_TOKEN"]); code != 200 {
		t.Errorf("GET /Users with the compose token = %d; want 200", code)
	}
	if b, err := os.ReadFile(env["SCIM_BRIDGE_SALESFORCE_TOKEN_FILE"]); err != nil || len(bytes.TrimSpace(b)) == 0 {
		t.Errorf("the rotated refresh token was not persisted to token_file: %v", err)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// unit parses a systemd unit into key → values.
func unit(t *testing.T, file string) map[string][]string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	u := map[string][]string{}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: not key=value: %q", file, line)
		}
		u[k] = append(u[k], v)
	}
	return u
}

func readEnvFile(t *testing.T, file string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if line = strings.TrimSpace(line); line == "" || line[0] == '#' {
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		env[k] = v
	}
	return env
}

func TestSystemdUnit(t *testing.T) {
	dir := filepath.Join(repoRoot, "deploy", "systemd")
	u := unit(t, filepath.Join(dir, "scim-bridge.service"))
	one := func(k string) string {
		if len(u[k]) != 1 {
			t.Errorf("%s is set %d times; want once", k, len(u[k]))
			return ""
		}
		return u[k][0]
	}
	for k, want := range map[string]string{"DynamicUser": "yes", "StateDirectory": "scim-bridge", "NoNewPrivileges": "yes", "ProtectSystem": "strict",
		"KillSignal": "SIGTERM", "ExecReload": "/bin/kill -HUP $MAINPID"} {
		if got := one(k); got != want {
			t.Errorf("%s=%s; want %s", k, got, want)
		}
	}
	exec := strings.Fields(one("ExecStart"))
	if len(exec) < 4 || exec[1] != "serve" || exec[2] != "--config" || !knownCommand(exec[1]) {
		t.Fatalf("ExecStart=%v; want <binary> serve --config FILE", exec)
	}
	if !strings.Contains(commandHelp("serve"), "-config") {
		t.Error("serve has no --config flag")
	}
	cfg := decodeConfigFile(t, filepath.Join(dir, filepath.Base(exec[3])))
	if want := "/var/lib/" + one("StateDirectory"); cfg.Salesforce.TokenFile != "" && !under(cfg.Salesforce.TokenFile, want) {
		t.Errorf("salesforce.token_file %s is outside the StateDirectory %s, the only writable place", cfg.Salesforce.TokenFile, want)
	}
	stop, err := time.ParseDuration(one("TimeoutStopSec"))
	if err != nil || stop < cfg.ShutdownDelay+drainTimeout {
		t.Errorf("TimeoutStopSec=%s; want at least shutdown_delay %v + drain %v", one("TimeoutStopSec"), cfg.ShutdownDelay, drainTimeout)
	}
	envFile := one("EnvironmentFile")
	env := readEnvFile(t, filepath.Join(dir, filepath.Base(envFile)))
	for k := range env {
		if !knownVariable(k) {
			t.Errorf("%s sets %s, a variable the binary does not read", envFile, k)
		}
	}
	fakeEnv, remap := withFakeRoot(t, env)
	if _, err := loadRemapped(t, filepath.Join(dir, filepath.Base(exec[3])), fakeEnv, remap); err != nil {
		t.Errorf("the systemd configuration does not load: %v", err)
	}
}

// TestDeployGuideDockerRun: docs/deploy.md's docker run names variables the binary reads, mounts
// every secret file it names read-only, and keeps token_file on a named volume owned by the image.
func TestDeployGuideDockerRun(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(repoRoot, "docs", "deploy.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```sh\n(docker build.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/deploy.md has no sh block starting with docker build")
	}
	script := strings.ReplaceAll(string(m[1]), "\\\n", " ")
	run := regexp.MustCompile(`docker run [^\n]*`).FindString(script)
	if run == "" {
		t.Fatal("no docker run command")
	}
	words := strings.Fields(run)
	env := map[string]string{}
	mounts := map[string]string{} // container path → source
	readOnly := map[string]bool{}
	for i := 0; i+1 < len(words); i++ {
		switch words[i] {
		case "-e":
			k, v, _ := strings.Cut(words[i+1], "=")
			env[k] = v
			if !knownVariable(k) {
				t.Errorf("docker run -e %s: not a variable the binary reads", k)
			}
		case "-v":
			parts := strings.Split(strings.Trim(words[i+1], `"`), ":")
			mounts[parts[1]] = parts[0]
			readOnly[parts[1]] = len(parts) > 2 && parts[2] == "ro"
		}
	}
	mountOf := func(file string) string {
		for dir := range mounts {
			if under(file, dir) {
				return dir
			}
		}
		return ""
	}
	var secretDirs []string
	for k, v := range env {
		if !strings.HasSuffix(k, "_FILE") || k == "SCIM_BRIDGE_SALESFORCE_TOKEN_FILE" {
			continue
		}
		dir := mountOf(v)
		if dir == "" || !readOnly[dir] {
			t.Errorf("%s=%s is not on a read-only mount", k, v)
			continue
		}
		secretDirs = append(secretDirs, dir)
		// The guide writes each secret file it mounts.
		if !strings.Contains(script, "> "+strings.TrimPrefix(v, dir+"/")) && !strings.Contains(script, "> secrets/"+filepath.Base(v)) {
			t.Errorf("the guide never writes the secret file for %s (%s)", k, filepath.Base(v))
		}
	}
	tf := env["SCIM_BRIDGE_SALESFORCE_TOKEN_FILE"]
	if dir := mountOf(tf); dir == "" || readOnly[dir] || strings.Contains(mounts[dir], "/") {
		t.Errorf("token_file %s is not on a writable named volume (mounts %v)", tf, mounts)
	} else if df := readDockerfile(t); !strings.Contains(strings.Join(df.final["COPY"], " "), "--chown=65532:65532 /out/state "+dir) {
		t.Errorf("the image does not prepare %s for its user, so a new named volume there is not writable", dir)
	}
	for _, want := range []string{"chown -R 65532:65532 secrets", "--read-only"} {
		if !strings.Contains(script, want) {
			t.Errorf("the guide lacks %q", want)
		}
	}
	fakeEnv, remap := withFakeRoot(t, env, secretDirs...)
	fakeEnv["SCIM_BRIDGE_LISTEN"] = "0.0.0.0:" + strconv.Itoa(8080) // the image's ENV
	if _, err := loadRemapped(t, writeFile(t, "empty.yaml", ""), fakeEnv, remap); err != nil {
		t.Errorf("the docker run configuration does not load: %v", err)
	}
}
