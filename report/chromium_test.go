package report

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestChromiumRendersTheReport opens report.html in headless Chromium (Debian's chromium, which the
// test profile of scripts/setup.sh installs), drives it over the DevTools protocol on a pipe, and
// checks that the page loaded with no failed resource and no request beyond the file itself and its
// data: URIs, that every picture decoded, and that a full-page PNG screenshot can be taken. A page
// with a broken picture must fail the same check, so the check itself is tested.
func TestChromiumRendersTheReport(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	bin := chromiumBinary(t)
	f := newFixture(t, fullSpec)
	res := f.write(Options{})
	br := startBrowser(t, bin)

	got := br.load(t, res.HTML)
	if len(got.failed) > 0 || len(got.foreign) > 0 || len(got.errors) > 0 {
		t.Errorf("report.html: failed resources %q, requests beyond the file %q, console errors %q", got.failed, got.foreign, got.errors)
	}
	if got.images != res.Assets || got.decoded != got.images {
		t.Errorf("report.html: %d pictures in the page, %d decoded; %d were written", got.images, got.decoded, res.Assets)
	}
	shot := filepath.Join(filepath.Dir(res.HTML), "screenshot.png")
	if err := os.WriteFile(shot, got.screenshot, 0o644); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(got.screenshot))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if h := img.Bounds().Dy(); h < 5000 {
		t.Errorf("the full-page screenshot is %d pixels high: the page did not lay out its sections and pictures", h)
	}

	broken := filepath.Join(t.TempDir(), "broken.html")
	page := `<!DOCTYPE html><html><body><img src="data:image/png;base64,iVBORw0KGgoAAAA="><img src="missing.png"></body></html>`
	if err := os.WriteFile(broken, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := br.load(t, broken)
	if bad.decoded != 0 || bad.images != 2 || len(bad.failed) != 1 || len(bad.foreign) != 1 {
		t.Errorf("the check misses a broken page: %d of %d pictures decoded, failed resources %q", bad.decoded, bad.images, bad.failed)
	}
}

// chromiumBinary finds Debian's chromium.
func chromiumBinary(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("chromium is not installed: run scripts/setup.sh test (it installs Debian's chromium), or go test -short to skip this test")
	return ""
}

// browser is a headless Chromium driven over --remote-debugging-pipe: JSON messages separated by
// NUL bytes, written to its fd 3 and read from its fd 4.
type browser struct {
	cmd    *exec.Cmd
	w      io.WriteCloser
	mu     sync.Mutex
	nextID int
	wait   map[int]chan cdpMessage
	events chan cdpMessage
}

// cdpMessage is a protocol response or event.
type cdpMessage struct {
	ID        int             `json:"id"`
	Method    string          `json:"method"`
	Params    json.RawMessage `json:"params"`
	Result    json.RawMessage `json:"result"`
	Error     *struct{ Message string }
	SessionID string `json:"sessionId"`
}

func startBrowser(t *testing.T, bin string) *browser {
	t.Helper()
	toChrome, ourW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	ourR, fromChrome, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
		"--user-data-dir="+t.TempDir(), "--remote-debugging-pipe", "--window-size=1280,900", "about:blank")
	cmd.ExtraFiles = []*os.File{toChrome, fromChrome}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting %s: %v", bin, err)
	}
	toChrome.Close()
	fromChrome.Close()
	b := &browser{cmd: cmd, w: ourW, wait: map[int]chan cdpMessage{}, events: make(chan cdpMessage, 4096)}
	go b.read(ourR)
	t.Cleanup(func() {
		_, _ = b.call("", "Browser.close", nil)
		ourW.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		cancel()
		if t.Failed() {
			t.Logf("chromium stderr:\n%s", stderr.String())
		}
	})
	return b
}

// read dispatches the browser's messages: responses to their callers, events to b.events.
func (b *browser) read(r io.Reader) {
	br := bufio.NewReaderSize(r, 1<<20)
	for {
		msg, err := br.ReadBytes(0)
		if err != nil {
			close(b.events)
			b.mu.Lock()
			for id, ch := range b.wait {
				close(ch)
				delete(b.wait, id)
			}
			b.mu.Unlock()
			return
		}
		var m cdpMessage
		if json.Unmarshal(msg[:len(msg)-1], &m) != nil {
			continue
		}
		if m.ID == 0 {
			select {
			case b.events <- m:
			default: // nobody reads events of this kind: drop rather than block
			}
			continue
		}
		b.mu.Lock()
		ch := b.wait[m.ID]
		delete(b.wait, m.ID)
		b.mu.Unlock()
		if ch != nil {
			ch <- m
		}
	}
}

// call sends one command (to a page session when session is set) and waits for its result.
func (b *browser) call(session, method string, params any) (json.RawMessage, error) {
	b.mu.Lock()
	b.nextID++
	id := b.nextID
	ch := make(chan cdpMessage, 1)
	b.wait[id] = ch
	b.mu.Unlock()
	msg := map[string]any{"id": id, "method": method, "params": params}
	if params == nil {
		msg["params"] = map[string]any{}
	}
	if session != "" {
		msg["sessionId"] = session
	}
	data, _ := json.Marshal(msg)
	if _, err := b.w.Write(append(data, 0)); err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	select {
	case m, ok := <-ch:
		if !ok {
			return nil, fmt.Errorf("%s: chromium exited", method)
		}
		if m.Error != nil {
			return nil, fmt.Errorf("%s: %s", method, m.Error.Message)
		}
		return m.Result, nil
	case <-time.After(60 * time.Second):
		return nil, fmt.Errorf("%s: no answer within 60 s", method)
	}
}

// pageResult is what loading one page showed.
type pageResult struct {
	failed, foreign, errors []string
	images, decoded         int
	screenshot              []byte
}

// load opens the file in a new tab, waits for its load event, and collects failed requests,
// requests to anything but the file and data: URIs, console errors, and the pictures' state.
func (b *browser) load(t *testing.T, file string) pageResult {
	t.Helper()
	must := func(raw json.RawMessage, err error) json.RawMessage {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	var target struct{ TargetID string }
	_ = json.Unmarshal(must(b.call("", "Target.createTarget", map[string]any{"url": "about:blank"})), &target)
	var att struct{ SessionID string }
	_ = json.Unmarshal(must(b.call("", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true})), &att)
	s := att.SessionID
	for _, m := range []string{"Page.enable", "Network.enable", "Runtime.enable", "Log.enable"} {
		must(b.call(s, m, nil))
	}
	abs, _ := filepath.Abs(file)
	pageURL := (&url.URL{Scheme: "file", Path: abs}).String()
	must(b.call(s, "Page.navigate", map[string]any{"url": pageURL}))
	var res pageResult
	deadline := time.After(60 * time.Second)
	for loaded := false; !loaded; {
		select {
		case ev, ok := <-b.events:
			if !ok {
				t.Fatal("chromium exited while loading the page")
			}
			if ev.SessionID != s {
				continue
			}
			switch ev.Method {
			case "Page.loadEventFired":
				loaded = true
			case "Network.loadingFailed":
				var p struct{ ErrorText string }
				_ = json.Unmarshal(ev.Params, &p)
				res.failed = append(res.failed, p.ErrorText)
			case "Network.requestWillBeSent":
				var p struct{ Request struct{ URL string } }
				_ = json.Unmarshal(ev.Params, &p)
				if u := p.Request.URL; u != pageURL && !strings.HasPrefix(u, "data:") {
					res.foreign = append(res.foreign, u)
				}
			case "Runtime.exceptionThrown", "Log.entryAdded":
				if ev.Method == "Runtime.exceptionThrown" || strings.Contains(string(ev.Params), `"level":"error"`) {
					res.errors = append(res.errors, string(ev.Params))
				}
			}
		case <-deadline:
			t.Fatalf("%s did not finish loading within 60 s", file)
		}
	}
	// decode() settles once a picture is decoded (or fails to be); complete and naturalWidth > 0
	// confirm it holds pixels.
	raw := must(b.call(s, "Runtime.evaluate", map[string]any{"awaitPromise": true, "returnByValue": true,
		"expression": `Promise.all(Array.from(document.images).map(i => i.decode().then(() => i.complete && i.naturalWidth > 0, () => false)))`}))
	var ev struct {
		Result struct{ Value []bool }
	}
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	res.images = len(ev.Result.Value)
	for _, ok := range ev.Result.Value {
		if ok {
			res.decoded++
		}
	}
	var shot struct{ Data string }
	_ = json.Unmarshal(must(b.call(s, "Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true})), &shot)
	res.screenshot, _ = base64.StdEncoding.DecodeString(shot.Data)
	must(b.call("", "Target.closeTarget", map[string]any{"targetId": target.TargetID}))
	return res
}
