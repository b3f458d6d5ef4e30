using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.RegularExpressions;
using GraphGen.Checkpoints;
using GraphGen.Data;
using GraphGen.Samples;
using GraphGen.Tests.Packaging;
using GraphGen.Training;
using Xunit;
using Xunit.Abstractions;

namespace GraphGen.Tests.Browser;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class BrowserCollection
{
    // Alone, after the parallel tests: the publish builds projects that other tests build too, and the
    // browser's speed figures are measured on a machine the other tests are not also loading.
    public const string Name = "browser (samples/Web in headless chromium)";
}

/// <summary>samples/Web, published once (Release), served from here and opened in Debian's headless
/// chromium: one page per test, driven through the DevTools protocol.</summary>
public sealed class PublishedWebApp : IDisposable
{
    private readonly string _work = Path.Combine(Path.GetTempPath(), $"graphgen-web-{Guid.NewGuid():N}");
    private readonly StaticServer _server;

    public PublishedWebApp()
    {
        DevTools.Executable(); // a missing browser fails before the minute a publish takes
        string project = Path.Combine(PackageTests.RepositoryRoot(), "samples", "Web", "Web.csproj");
        string publish = Path.Combine(_work, "publish");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in new[] { "publish", project, "-c", "Release", "-o", publish }) start.ArgumentList.Add(a);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        var clock = Stopwatch.StartNew();
        using (var process = Process.Start(start)!)
        {
            var stderr = process.StandardError.ReadToEndAsync();
            string stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0) throw new InvalidOperationException($"dotnet publish samples/Web failed ({process.ExitCode}):\n{stdout}{stderr.Result}");
        }
        PublishSeconds = clock.Elapsed.TotalSeconds;
        Root = Path.Combine(publish, "wwwroot");
        _server = new StaticServer(Root);
        Browser = DevTools.Launch(1100, 1400);
        Browser.Call("Runtime.enable");
        Browser.Call("Page.enable");
        Screenshots = Environment.GetEnvironmentVariable("GRAPHGEN_SCREENSHOTS") is { Length: > 0 } dir ? dir : Path.Combine(_work, "screenshots");
        Directory.CreateDirectory(Screenshots);
    }

    /// <summary>The published wwwroot: what the browser gets.</summary>
    public string Root { get; }
    public double PublishSeconds { get; }
    public DevTools Browser { get; }
    /// <summary>Where screenshots go: $GRAPHGEN_SCREENSHOTS, else a temporary folder.</summary>
    public string Screenshots { get; }

    /// <summary>A fresh page, loaded: the runtime started, the data and the bundled checkpoint read.</summary>
    public void Open()
    {
        Browser.Console.Clear();
        Browser.Call("Page.navigate", new { url = _server.Address.ToString() });
        Browser.WaitFor("document.getElementById('status')?.textContent === 'ready' && document.getElementById('example-9')",
            "the page to load the runtime, the data and the checkpoint", TimeSpan.FromMinutes(3));
    }

    public string Text(string id) => Browser.Evaluate($"document.getElementById('{id}').textContent").GetString()!;

    public void Click(string id) => Browser.Evaluate($"document.getElementById('{id}').click()");

    /// <summary>Sets an input as a person would: its value, then the change event that Blazor's binding reads.</summary>
    public void Set(string id, string value) =>
        Browser.Evaluate($"(e => {{ e.value = '{value}'; e.dispatchEvent(new Event('change', {{ bubbles: true }})); }})(document.getElementById('{id}'))");

    public void Screenshot(string name) => File.WriteAllBytes(Path.Combine(Screenshots, $"web-{name}.png"), Browser.Screenshot());

    /// <summary>A bundled data set, read by the runtime from the very files the page fetches.</summary>
    public Dataset Data(string name) =>
        Idx.LoadDataset(Path.Combine(Root, "data", $"{name}-images-idx3-ubyte.gz"), Path.Combine(Root, "data", $"{name}-labels-idx1-ubyte.gz"), 10);

    /// <summary>Images per training step in the page.</summary>
    public const int Batch = 32;

    /// <summary>The native network the page runs: one thread, <paramref name="simd"/>, batches of <see cref="Batch"/>, the bundled checkpoint unless <paramref name="seed"/> is given.</summary>
    public LeNet Native(SimdPath simd, int? seed = null)
    {
        var net = new LeNet(new NetworkOptions { Threads = 1, Simd = simd, MaxBatch = Batch, Seed = seed ?? 0 });
        if (seed is null) Checkpoint.Load(net, Path.Combine(Root, "lenet.safetensors"));
        return net;
    }

    /// <summary>The page's console lines starting with "graphgen-web: <paramref name="what"/>".</summary>
    public List<string> Logged(string what) =>
        Browser.Console.Where(l => l.StartsWith("graphgen-web: " + what, StringComparison.Ordinal)).ToList();

    public void Dispose()
    {
        Browser.Dispose();
        _server.Dispose();
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }
}

/// <summary>
/// The web page (samples/Web) in a real browser: WebAssembly, one thread, the Vector128 path. It must classify
/// the bundled test images and a drawing exactly as the native runtime classifies them with the same
/// checkpoint, and its training must follow the native training run with the same seed and batches.
/// Slow: a publish (about a minute) and a browser; the README's test command runs it.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class WebPageTests(PublishedWebApp app, ITestOutputHelper output) : IClassFixture<PublishedWebApp>
{
    private static readonly Regex Speed = new(@"([0-9]+) images/s");

    [Fact]
    public void ThePageRunsOnOneThreadOnTheVector128Path()
    {
        app.Open();
        string platform = app.Text("platform");
        output.WriteLine(platform);
        Assert.Contains("on Browser", platform);
        Assert.Contains("SIMD path: Vector128 (Vector128`1 accelerated: True)", platform);
        // A network asking for four threads, oversubscribed, runs on one: WebAssembly here starts none
        // (Thread.Start threw PlatformNotSupportedException before NetworkCore.ThreadCount).
        Assert.Contains("threads: 1 (asked for 4 with Oversubscribe: 1)", platform);
        output.WriteLine($"publish took {app.PublishSeconds:F0} s");
    }

    [Fact]
    public void TestImagesAreClassifiedAsTheNativeRuntimeClassifiesThem()
    {
        Dataset test = app.Data("test-1000");
        using LeNet native = app.Native(SimdPath.Vector128);
        float[] probabilities = Trainer.Predict(native, test);
        int[] expected = Enumerable.Range(0, test.Count).Select(i => ArgMax(probabilities.AsSpan(i * 10, 10))).ToArray();
        app.Open();

        // A person's way: click each bundled example (the first test image of each class) and read the bars.
        for (int c = 0; c < 10; c++)
        {
            int index = test.Labels.ToArray().AsSpan().IndexOf(c);
            app.Click($"example-{c}");
            app.Browser.WaitFor($"document.getElementById('probabilities').dataset.source === 'test image {index}'", $"test image {index} to be classified", TimeSpan.FromMinutes(1));
            Assert.Equal(FashionMnist.ClassNames[expected[index]], app.Text("top-class"));
            for (int k = 0; k < 10; k++)
            {
                double shown = double.Parse(app.Text($"p-{k}").TrimEnd('%'), CultureInfo.InvariantCulture);
                Assert.True(Math.Abs(shown - 100.0 * probabilities[index * 10 + k]) <= 0.051,
                    $"test image {index}, class {k}: the page shows {shown}%, the native runtime computes {100.0 * probabilities[index * 10 + k]:F3}%");
            }
            if (c == 9) app.Screenshot("inference");
        }

        // All 1,000 in one call, three times: the predictions each time, and the speed once warm.
        for (int round = 1; round <= 3; round++)
        {
            app.Click("classify-all");
            app.Browser.WaitFor(() => app.Logged("inference").Count == round, $"classifying the test images, round {round}", TimeSpan.FromMinutes(2));
            int[] shown = app.Text("predictions").Split(' ').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal(expected, shown);
        }
        List<string> lines = app.Logged("inference");
        lines.ForEach(output.WriteLine);
        Assert.Equal(3, lines.Count);

        double nativeSpeed = InferenceSpeed(native, test);
        using LeNet widest = app.Native(SimdPath.Auto);
        output.WriteLine($"browser inference, warm: {Speed.Match(lines[^1]).Groups[1].Value} images/s; native, 1 thread: " +
                         $"{nativeSpeed:F0} images/s on Vector128, {InferenceSpeed(widest, test):F0} on {widest.Simd}");
    }

    [Fact]
    public void AnUploadedCheckpointIsUsedAndABadOneIsRefused()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"graphgen-web-upload-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            app.Open();
            // A damaged file: one clear error naming it, and the page keeps the weights it had.
            string bad = Path.Combine(dir, "damaged.safetensors");
            File.WriteAllBytes(bad, File.ReadAllBytes(Path.Combine(app.Root, "lenet.safetensors"))[..5000]);
            app.Browser.ChooseFile("#upload", bad);
            app.Browser.WaitFor(() => app.Browser.Evaluate("document.getElementById('error') !== null").GetBoolean(), "the damaged file to be refused", TimeSpan.FromMinutes(1));
            string error = app.Text("error");
            output.WriteLine(error);
            Assert.Contains("damaged.safetensors", error);
            Assert.StartsWith("bundled", app.Text("weights"));

            // Another LeNet's weights (natively trained a little), uploaded: the page classifies as they do natively.
            Dataset test = app.Data("test-1000");
            string good = Path.Combine(dir, "other.safetensors");
            using LeNet other = app.Native(SimdPath.Vector128, seed: 11);
            NativeRun(other, app.Data("train-3000"), 100, 11, 0.5f);
            Checkpoint.Save(other, good);
            float[] probabilities = Trainer.Predict(other, test);
            string expected = string.Join(" ", Enumerable.Range(0, test.Count).Select(i => ArgMax(probabilities.AsSpan(i * 10, 10))));
            app.Browser.ChooseFile("#upload", good);
            // The damaged file's error stays on the page until the page takes up the next file, and WaitFor fails on any
            // error shown: wait for that one to go first (a fast poll saw it and failed the test once).
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (app.Browser.Evaluate("document.getElementById('error')?.textContent ?? null") is { ValueKind: JsonValueKind.String } shown && shown.GetString() == error)
            {
                Assert.True(clock.Elapsed < TimeSpan.FromMinutes(1), "the damaged file's error is still shown a minute after the next upload");
                System.Threading.Thread.Sleep(50);
            }
            app.Browser.WaitFor("document.getElementById('weights').textContent === 'uploaded other.safetensors'", "the uploaded checkpoint to be used", TimeSpan.FromMinutes(1));
            Assert.Equal(0, app.Browser.Evaluate("document.querySelectorAll('#error').length").GetInt32());
            app.Click("classify-all");
            app.Browser.WaitFor(() => app.Logged("inference").Count == 1, "the test images to be classified", TimeSpan.FromMinutes(2));
            Assert.Equal(expected, app.Text("predictions"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void ADrawingIsClassifiedAsTheNativeRuntimeClassifiesIt()
    {
        app.Open();
        // A pair of trousers, drawn with the mouse: an upside-down U across the canvas.
        JsonElement box = app.Browser.Evaluate("(r => [r.left, r.top, r.width])(document.getElementById('draw').getBoundingClientRect())");
        double left = box[0].GetDouble(), top = box[1].GetDouble(), scale = box[2].GetDouble() / 280;
        (double X, double Y)[] stroke = [(95, 260), (95, 140), (100, 25), (140, 20), (180, 25), (185, 140), (185, 260)];
        app.Browser.Mouse("mousePressed", left + stroke[0].X * scale, top + stroke[0].Y * scale);
        foreach (var (x, y) in stroke.Skip(1))
            for (int k = 1; k <= 8; k++) // short moves, as a hand makes
                app.Browser.Mouse("mouseMoved", left + x * scale, top + y * scale);
        app.Browser.Mouse("mouseReleased", left + stroke[^1].X * scale, top + stroke[^1].Y * scale);
        app.Browser.WaitFor("document.getElementById('probabilities').dataset.source === 'drawing 1'", "the drawing to be classified", TimeSpan.FromMinutes(1));
        app.Screenshot("drawing");

        // The 28x28 image the page classified, from the page's own module; the native runtime must agree on it.
        byte[] image = app.Browser.Evaluate("import('./draw.js').then(m => Array.from(m.read(document.getElementById('draw'))))")
            .EnumerateArray().Select(v => (byte)v.GetInt32()).ToArray();
        Assert.Equal(784, image.Length);
        Assert.InRange(image.Count(p => p > 128), 60, 500); // a drawing, not a blank or a full frame
        using LeNet native = app.Native(SimdPath.Vector128);
        float[] probabilities = Trainer.Predict(native, image);
        int expected = ArgMax(probabilities);
        output.WriteLine($"drawing: the page says {app.Text("top-class")}, native {FashionMnist.ClassNames[expected]} ({probabilities[expected]:P1})");
        Assert.Equal(FashionMnist.ClassNames[expected], app.Text("top-class"));
        double sum = Enumerable.Range(0, 10).Sum(k => double.Parse(app.Text($"p-{k}").TrimEnd('%'), CultureInfo.InvariantCulture));
        Assert.InRange(sum, 99.5, 100.5);
    }

    [Fact]
    public void TrainingInTheBrowserFollowsTheNativeRun()
    {
        const int Steps = 60, Seed = 3;
        const float LearningRate = 0.5f;
        app.Open();
        app.Set("seed", Seed.ToString(CultureInfo.InvariantCulture));
        app.Set("lr", "0.5");
        app.Set("steps", Steps.ToString(CultureInfo.InvariantCulture));
        app.Click("train");
        app.Browser.WaitFor("document.getElementById('train-status').textContent.startsWith('done')", "training to finish", TimeSpan.FromMinutes(5));
        app.Screenshot("training");
        double[] browser = app.Text("losses").Split(' ').Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(Steps, browser.Length);
        Assert.All(browser, loss => Assert.True(double.IsFinite(loss), $"a loss is {loss}"));
        Assert.True(browser[^10..].Average() < 0.6 * browser[..10].Average(),
            $"the loss did not fall: first ten steps {browser[..10].Average():F3}, last ten {browser[^10..].Average():F3}");

        // The same run natively: the page's batches (a shuffled epoch from Random(seed), Batch at a time), its seed and rate.
        Assert.Contains($"batches of {PublishedWebApp.Batch} from", app.Text("train-settings"));
        Dataset train = app.Data("train-3000");
        using LeNet native = app.Native(SimdPath.Vector128, Seed);
        double[] losses = NativeRun(native, train, Steps, Seed, LearningRate).Losses;
        for (int i = 0; i < Steps; i++)
            output.WriteLine($"step {i + 1,3}: browser {browser[i]:F6}, native {losses[i]:F6}, relative difference {Math.Abs(browser[i] - losses[i]) / losses[i]:E1}");
        // The first step starts from the same weights (the seed's) on the same batch: the same arithmetic up to rounding
        // (x64 fuses multiply-adds, WebAssembly SIMD does not; the scalar exp/log of the loss differ in the last bit),
        // so its loss and every parameter's gradient agree to about 1e-6. That holds the forward and backward kernels
        // and the chunk sums on WebAssembly to the native ones.
        double first = Math.Abs(browser[0] - losses[0]) / losses[0];
        Assert.True(first <= 1e-6, $"step 1: the browser's loss {browser[0]:R} is {first:E2} (relative) from the native {losses[0]:R}");
        List<string> digest = app.Logged("first step gradients");
        Assert.Single(digest);
        using (LeNet once = app.Native(SimdPath.Vector128, Seed))
        {
            NativeRun(once, train, 1, Seed, LearningRate);
            CompareGradients(digest[0]["graphgen-web: first step gradients: ".Length..], once);
        }
        // Later steps are two SGD runs whose weights differ by rounding, and a discrete choice can then fall one way in
        // the browser and the other natively. Seed 3 since the pairwise chunk sums (Kernels.SumChunks): steps 1-3 agree
        // to 2.5e-7, but step 3's backward pass parts in one middle conv2 output channel (its weight gradient 2e-3 off
        // in sum, channels 0 and 15 and every batch-norm-2 gradient within 1e-5, hence every layer-1 gradient moved):
        // the signature of a max-pool-2 window whose two largest values are within rounding of each other, the
        // gradient routed to the other position. Native without FMA (DOTNET_EnableAVX2=0) takes the native path, so
        // it is not the fused multiply-add alone; the sequential chunk sum of the web branch happened to meet no such
        // tie in ten steps. Losses then sit 1e-4 apart from step 4 (2.2e-3 at step 8). So ten steps are held to 1 %
        // and the last ten to 3 % on average below; the first step's gradients above are what hold the kernels.
        double early = Enumerable.Range(0, 10).Max(i => Math.Abs(browser[i] - losses[i]) / losses[i]);
        Assert.True(early <= 1e-2, $"in the first ten steps the browser's loss leaves the native one by {early:E2} (relative)");
        double browserEnd = browser[^10..].Average(), nativeEnd = losses[^10..].Average();
        Assert.True(Math.Abs(browserEnd - nativeEnd) <= 0.03 * nativeEnd, $"mean loss of the last ten steps: browser {browserEnd:F4}, native {nativeEnd:F4}");

        // Native speed, warm (the JIT has compiled the kernels above), on the page's path and on this machine's widest.
        double speed = NativeRun(native, train, Steps, Seed, LearningRate).ImagesPerSecond;
        using LeNet widest = app.Native(SimdPath.Auto, Seed);
        NativeRun(widest, train, Steps, Seed, LearningRate);
        double widestSpeed = NativeRun(widest, train, Steps, Seed, LearningRate).ImagesPerSecond;
        List<string> lines = app.Logged("training");
        lines.ForEach(output.WriteLine);
        Assert.Single(lines);
        output.WriteLine($"browser training: {Speed.Match(lines[0]).Groups[1].Value} images/s; native, 1 thread, batches of {PublishedWebApp.Batch}: " +
                         $"{speed:F0} images/s on Vector128, {widestSpeed:F0} on {widest.Simd}");
    }

    /// <summary>The page's training run, natively: a shuffled epoch from Random(seed), <see cref="PublishedWebApp.Batch"/>
    /// images at a time (as samples/Web's StepTrainer draws them), SGD at <paramref name="learningRate"/>.</summary>
    private static (double[] Losses, double ImagesPerSecond) NativeRun(LeNet net, Dataset train, int steps, int seed, float learningRate)
    {
        const int Batch = PublishedWebApp.Batch;
        var random = new Random(seed);
        int[] order = new int[train.Count];
        int next = train.Count;
        var pixels = new byte[Batch * train.SampleSize];
        var labels = new int[Batch];
        var losses = new double[steps];
        long start = Stopwatch.GetTimestamp();
        for (int step = 0; step < steps; step++)
        {
            if (next + Batch > order.Length)
            {
                for (int i = 0; i < order.Length; i++) order[i] = i;
                random.Shuffle(order);
                next = 0;
            }
            train.Gather(order.AsSpan(next, Batch), pixels, labels);
            next += Batch;
            losses[step] = net.TrainStep(pixels, labels, learningRate).MeanLoss;
        }
        return (losses, steps * Batch / Stopwatch.GetElapsedTime(start).TotalSeconds);
    }

    /// <summary>Holds the page's digest of its first step's gradients (samples/Web Lab.GradientDigest: per parameter its
    /// L2 norm, a checksum Σ gᵢ·cᵢ with cᵢ = (7919·i mod 13) − 6, and Σ |gᵢ|·6) to the same digest of <paramref name="native"/>.
    /// Norms agree to 1e-4 relative and checksums to 1e-4 of their scale; the floor of 1e-5 is for the conv and dense
    /// biases that batch norm follows, whose gradients are zero but for rounding (about 1e-7).</summary>
    private void CompareGradients(string browserDigest, INetwork native)
    {
        string[] words = browserDigest.Split(' ');
        var parameters = native.Tensors.Where(t => t.Kind == TensorKind.Parameter).ToList();
        Assert.Equal(parameters.Count * 4, words.Length);
        for (int k = 0; k < parameters.Count; k++)
        {
            string name = parameters[k].Name;
            Assert.Equal(name, words[4 * k]);
            double norm = double.Parse(words[4 * k + 1], CultureInfo.InvariantCulture);
            double checksum = double.Parse(words[4 * k + 2], CultureInfo.InvariantCulture);
            ReadOnlySpan<float> g = native.Gradient(name);
            double squares = 0, nativeChecksum = 0, magnitude = 0;
            for (int i = 0; i < g.Length; i++)
            {
                squares += (double)g[i] * g[i];
                nativeChecksum += g[i] * (double)((7919L * i) % 13 - 6);
                magnitude += Math.Abs(g[i]) * 6.0;
            }
            double nativeNorm = Math.Sqrt(squares);
            output.WriteLine($"step 1 gradient of {name}: norm browser {norm:E6}, native {nativeNorm:E6}; checksum browser {checksum:E6}, native {nativeChecksum:E6}");
            Assert.True(Math.Abs(norm - nativeNorm) <= 1e-4 * nativeNorm + 1e-5,
                $"step 1: the gradient of {name} has norm {norm:R} in the browser and {nativeNorm:R} natively");
            Assert.True(Math.Abs(checksum - nativeChecksum) <= 1e-4 * magnitude + 1e-5,
                $"step 1: the gradient of {name} has checksum {checksum:R} in the browser and {nativeChecksum:R} natively (scale {magnitude:R})");
        }
    }

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
            if (values[i] > values[best]) best = i;
        return best;
    }

    /// <summary>The best of three single inference calls on the whole set, after one to warm up.</summary>
    private static double InferenceSpeed(LeNet net, Dataset set)
    {
        var logits = new float[set.Count * 10];
        net.Infer(set.Pixels, logits);
        double best = 0;
        for (int i = 0; i < 3; i++)
        {
            long start = Stopwatch.GetTimestamp();
            net.Infer(set.Pixels, logits);
            best = Math.Max(best, set.Count / Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        return best;
    }
}
