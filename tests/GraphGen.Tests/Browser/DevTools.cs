using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;

namespace GraphGen.Tests.Browser;

/// <summary>
/// Debian's chromium, headless, driven through the Chrome DevTools protocol (JSON messages over a
/// WebSocket, https://chromedevtools.github.io/devtools-protocol/): just the calls the page test needs,
/// and the page's console lines. No browser is downloaded: a missing chromium is one clear error.
/// </summary>
public sealed class DevTools : IDisposable
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(120);
    private readonly Process _browser;
    private readonly string _profile;
    private readonly ClientWebSocket _socket = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonElement>> _pending = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly Task _reader;
    private int _nextId;

    /// <summary>The page's console messages (console.log, .NET's Console.WriteLine) and uncaught exceptions, in order.</summary>
    public ConcurrentQueue<string> Console { get; } = new();

    private DevTools(Process browser, string profile, Uri page)
    {
        _browser = browser;
        _profile = profile;
        _socket.Options.KeepAliveInterval = TimeSpan.Zero;
        _socket.ConnectAsync(page, CancellationToken.None).Wait(CallTimeout);
        _reader = Task.Run(ReadLoop);
    }

    /// <summary>The chromium to run: $CHROMIUM, else Debian's /usr/bin/chromium.</summary>
    public static string Executable()
    {
        string path = Environment.GetEnvironmentVariable("CHROMIUM") is { Length: > 0 } set ? set : "/usr/bin/chromium";
        if (!File.Exists(path))
            throw new InvalidOperationException($"the browser test needs Debian's chromium at {path} (apt-get install -y chromium; .ci/run installs it), or CHROMIUM=/path/to/chromium");
        return path;
    }

    /// <summary>Starts a headless chromium with a fresh profile and connects to its first tab.</summary>
    public static DevTools Launch(int width, int height)
    {
        string profile = Path.Combine(Path.GetTempPath(), $"graphgen-chromium-{Guid.NewGuid():N}");
        Directory.CreateDirectory(profile);
        var start = new ProcessStartInfo(Executable())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                     "--no-default-browser-check", "--disable-extensions", "--remote-debugging-port=0", $"--user-data-dir={profile}",
                     $"--window-size={width},{height}", "about:blank" })
            start.ArgumentList.Add(a);
        var browser = Process.Start(start)!;
        var stderr = new StringBuilder();
        browser.ErrorDataReceived += (_, e) => { lock (stderr) stderr.AppendLine(e.Data); };
        browser.OutputDataReceived += (_, _) => { };
        browser.BeginErrorReadLine();
        browser.BeginOutputReadLine();
        try
        {
            // Chromium writes the port it chose, and the browser's endpoint, to DevToolsActivePort in the profile.
            string portFile = Path.Combine(profile, "DevToolsActivePort");
            var clock = Stopwatch.StartNew();
            while (!File.Exists(portFile) || File.ReadAllLines(portFile).Length < 2)
            {
                if (browser.HasExited || clock.Elapsed > CallTimeout)
                    throw new InvalidOperationException($"chromium did not open its DevTools port (exited: {browser.HasExited}):\n{stderr}");
                Thread.Sleep(100);
            }
            int port = int.Parse(File.ReadAllLines(portFile)[0], System.Globalization.CultureInfo.InvariantCulture);
            using var http = new HttpClient();
            using var targets = JsonDocument.Parse(http.GetStringAsync($"http://127.0.0.1:{port}/json/list").Result);
            foreach (JsonElement target in targets.RootElement.EnumerateArray())
                if (target.GetProperty("type").GetString() == "page")
                    return new DevTools(browser, profile, new Uri(target.GetProperty("webSocketDebuggerUrl").GetString()!));
            throw new InvalidOperationException($"chromium has no page to drive: {targets.RootElement}");
        }
        catch
        {
            Stop(browser, profile);
            throw;
        }
    }

    /// <summary>Calls a DevTools method and returns its result; a protocol error is an exception naming the method.</summary>
    public JsonElement Call(string method, object? parameters = null)
    {
        int id = Interlocked.Increment(ref _nextId);
        var reply = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = reply;
        byte[] message = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object?> { ["id"] = id, ["method"] = method, ["params"] = parameters ?? new { } });
        _sendLock.Wait();
        try { _socket.SendAsync(message, WebSocketMessageType.Text, true, CancellationToken.None).Wait(CallTimeout); }
        finally { _sendLock.Release(); }
        if (!reply.Task.Wait(CallTimeout))
            throw new TimeoutException($"chromium did not answer {method} in {CallTimeout.TotalSeconds} s");
        return reply.Task.Result;
    }

    /// <summary>The value of a JavaScript expression in the page (promises awaited); a thrown exception is rethrown here.</summary>
    public JsonElement Evaluate(string expression)
    {
        JsonElement result = Call("Runtime.evaluate", new { expression, returnByValue = true, awaitPromise = true });
        if (result.TryGetProperty("exceptionDetails", out JsonElement error))
            throw new InvalidOperationException($"the page threw evaluating {expression}: {error}");
        return result.GetProperty("result").TryGetProperty("value", out JsonElement value) ? value : default;
    }

    /// <summary>Polls <paramref name="condition"/> (a JavaScript expression) until it is true. Fails after
    /// <paramref name="limit"/> (a generous bound that only turns a hang into a failure), or as soon as the page
    /// shows an error that the condition does not accept, with the page's console in the message.</summary>
    public void WaitFor(string condition, string what, TimeSpan limit) => WaitFor(() => Evaluate($"!!({condition})").GetBoolean(), what, limit);

    /// <summary>As <see cref="WaitFor(string, string, TimeSpan)"/> with a condition checked here.</summary>
    public void WaitFor(Func<bool> condition, string what, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (condition()) return;
            JsonElement shown = Evaluate("document.getElementById('error')?.textContent ?? null");
            string? error = shown.ValueKind == JsonValueKind.String ? shown.GetString()
                : Console.FirstOrDefault(line => line.StartsWith("crit:", StringComparison.Ordinal) || line.StartsWith("uncaught:", StringComparison.Ordinal));
            if (error is not null && condition()) return; // the error is what was awaited
            if (error is not null || clock.Elapsed > limit)
                throw new InvalidOperationException($"waiting for {what}: {(error is null ? $"not there after {limit.TotalSeconds} s" : $"the page shows the error '{error}'")}\n" +
                                                    $"console:\n{string.Join("\n", Console)}");
            Thread.Sleep(100);
        }
    }

    /// <summary>Chooses <paramref name="path"/> in the file input <paramref name="selector"/>, as a person picking a file does.</summary>
    public void ChooseFile(string selector, string path)
    {
        JsonElement input = Call("Runtime.evaluate", new { expression = $"document.querySelector('{selector}')" }).GetProperty("result");
        if (!input.TryGetProperty("objectId", out JsonElement id)) throw new InvalidOperationException($"the page has no {selector}");
        Call("DOM.setFileInputFiles", new { files = new[] { path }, objectId = id.GetString() });
    }

    /// <summary>A PNG of the page as shown.</summary>
    public byte[] Screenshot() => Convert.FromBase64String(Call("Page.captureScreenshot", new { format = "png" }).GetProperty("data").GetString()!);

    /// <summary>A mouse event at page coordinates ("mousePressed", "mouseMoved", "mouseReleased"), left button.</summary>
    public void Mouse(string type, double x, double y) =>
        Call("Input.dispatchMouseEvent", new { type, x, y, button = "left", buttons = type == "mouseReleased" ? 0 : 1, clickCount = 1, pointerType = "mouse" });

    private async Task ReadLoop()
    {
        var buffer = new byte[1 << 16];
        var message = new MemoryStream();
        try
        {
            while (_socket.State == WebSocketState.Open)
            {
                WebSocketReceiveResult part = await _socket.ReceiveAsync(buffer, CancellationToken.None);
                if (part.MessageType == WebSocketMessageType.Close) break;
                message.Write(buffer, 0, part.Count);
                if (!part.EndOfMessage) continue;
                Dispatch(message.ToArray());
                message.SetLength(0);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        foreach (var pending in _pending.Values) pending.TrySetException(new IOException("the DevTools connection closed"));
    }

    private void Dispatch(byte[] json)
    {
        using var document = JsonDocument.Parse(json);
        JsonElement root = document.RootElement;
        if (root.TryGetProperty("id", out JsonElement id))
        {
            if (!_pending.TryRemove(id.GetInt32(), out var reply)) return;
            if (root.TryGetProperty("error", out JsonElement error))
                reply.SetException(new InvalidOperationException($"DevTools error: {error}"));
            else
                reply.SetResult(root.GetProperty("result").Clone());
            return;
        }
        string? method = root.GetProperty("method").GetString();
        JsonElement parameters = root.GetProperty("params");
        if (method == "Runtime.consoleAPICalled")
        {
            var parts = new List<string>();
            foreach (JsonElement arg in parameters.GetProperty("args").EnumerateArray())
                parts.Add(arg.TryGetProperty("value", out JsonElement v) ? v.ToString() : arg.GetProperty("type").GetString()!);
            Console.Enqueue(string.Join(" ", parts));
        }
        else if (method == "Runtime.exceptionThrown")
        {
            Console.Enqueue("uncaught: " + parameters.GetProperty("exceptionDetails"));
        }
    }

    public void Dispose()
    {
        try { _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).Wait(TimeSpan.FromSeconds(5)); }
        catch (Exception e) when (e is AggregateException or WebSocketException or ObjectDisposedException) { }
        _socket.Dispose();
        Stop(_browser, _profile);
    }

    private static void Stop(Process browser, string profile)
    {
        try
        {
            if (!browser.HasExited) browser.Kill(entireProcessTree: true);
            browser.WaitForExit(10_000);
        }
        catch (InvalidOperationException) { }
        browser.Dispose();
        try { Directory.Delete(profile, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
