using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.Intrinsics;

namespace GraphGen.Benchmarks;

/// <summary>
/// The suite of networks (<see cref="SuiteNetworks"/>): for each, a training step (plain SGD) and
/// inference, batch 256, on 1 and 2 threads; images/s, GFLOP/s from <see cref="FlopCount"/>, and the
/// share of the FMA ceiling (<see cref="Peak"/>, same width as the network's kernels, same thread
/// count) measured in the same round. On an AVX-512 machine each round also re-launches this program
/// with DOTNET_EnableAVX512=0, so the JIT generates AVX2 code, and the table gets a column for each.
/// Rounds alternate the two, and a cell with several rounds shows the lowest and highest value.
/// Stopwatch timing, no BenchmarkDotNet: the two processes must take turns.
/// </summary>
internal static class Suite
{
    private const int Batch = 256;
    private const string ResultTag = "suite-result";

    private sealed record Settings(string[] Networks, int[] Threads, int Rounds, double Seconds, int Steps, int Warmup, long PeakIterations, bool BothIsas, bool Child);

    /// <summary>One measurement. Simd is the path the network ran (its kernels' vector width).</summary>
    private sealed record Result(string Network, string Pass, int Threads, SimdPath Simd, double ImagesPerSecond, long FlopsPerImage, double Ceiling)
    {
        public double Gflops => ImagesPerSecond * FlopsPerImage / 1e9;
        public double Share => Gflops / Ceiling;
    }

    private const string Usage =
        "suite [--networks mlp,lenet,vgg,resnet,depthwise] [--threads 1,2] [--rounds 1] [--seconds 2] [--steps N] [--warmup 3] " +
        "[--peak-iterations 100000000] [--this-isa-only]";

    public static int Run(string[] args)
    {
        if (args.Contains("--help"))
        {
            Console.WriteLine($"usage: {Usage}");
            return 0;
        }
        Settings s;
        try { s = Parse(args); }
        catch (FormatException e)
        {
            Console.Error.WriteLine($"suite: {e.Message}\nusage: {Usage}");
            return 2;
        }
        var data = BenchData.Train(4 * Batch);
        var inputs = new float[data.Count * 784];
        for (int i = 0; i < inputs.Length; i++) inputs[i] = data.Pixels[i] / 255f;
        int[] labels = data.Labels.ToArray();
        if (s.Child)
        {
            foreach (Result r in Round(s, inputs, labels))
                Console.WriteLine(string.Join('\t', ResultTag, r.Network, r.Pass, r.Threads, r.Simd, r.ImagesPerSecond.ToString("R", CultureInfo.InvariantCulture),
                    r.FlopsPerImage, r.Ceiling.ToString("R", CultureInfo.InvariantCulture)));
            return 0;
        }

        bool relaunch = s.BothIsas && Vector512.IsHardwareAccelerated;
        Console.WriteLine($"# {CpuModel()}, {Environment.ProcessorCount} processors; load average {LoadAverage()}; {s.Rounds} round(s), batch {Batch}" +
                          (relaunch ? "; AVX2 columns from the same program under DOTNET_EnableAVX512=0" : ""));
        var results = new List<Result>();
        for (int round = 1; round <= s.Rounds; round++)
        {
            results.AddRange(Round(s, inputs, labels));
            if (relaunch) results.AddRange(Relaunched(s));
            Console.WriteLine($"# round {round} done, load average {LoadAverage()}");
        }
        Console.WriteLine();
        Console.Write(Table(s, results));
        return 0;
    }

    /// <summary>Every network, pass and thread count once, with the ceilings measured before and after
    /// (the higher counts: the machine's speed varies, and the ceiling is what it can do).</summary>
    private static List<Result> Round(Settings s, float[] inputs, int[] labels)
    {
        SimdPath simd = GraphGen.Execution.NetworkCore.Resolve(SimdPath.Auto);
        int bits = simd == SimdPath.Vector512 ? 512 : simd == SimdPath.Vector256 ? 256 : 128;
        if (bits == 128) throw new NotSupportedException($"suite measures against a Vector256 or Vector512 FMA ceiling; this machine runs {simd}.");
        var ceilings = s.Threads.ToDictionary(t => t, t => Peak.Measure(bits, t, s.PeakIterations));
        var measured = new List<(string Network, string Pass, int Threads, SimdPath Simd, double ImagesPerSecond, long Flops)>();
        foreach (string name in s.Networks)
        {
            var create = SuiteNetworks.All.First(n => n.Name == name).Create;
            foreach (int threads in s.Threads)
            {
                using INetwork net = create(new NetworkOptions { Seed = 1, Threads = threads, MaxBatch = Batch });
                if (net.Threads != threads)
                    throw new InvalidOperationException($"{name} runs {net.Threads} threads, not {threads}: this machine has {Environment.ProcessorCount} processors.");
                measured.Add((name, "training step", threads, net.Simd, Time(s, b => Train(net, inputs, labels, b)), FlopCount.TrainingStep(net)));
                var logits = new float[Batch * net.Classes];
                measured.Add((name, "inference", threads, net.Simd, Time(s, b => net.Infer(inputs.AsSpan(b * Batch * 784, Batch * 784), logits)), FlopCount.Forward(net)));
            }
        }
        foreach (int t in s.Threads) ceilings[t] = Math.Max(ceilings[t], Peak.Measure(bits, t, s.PeakIterations));
        return measured.Select(m => new Result(m.Network, m.Pass, m.Threads, m.Simd, m.ImagesPerSecond, m.Flops, ceilings[m.Threads])).ToList();
    }

    private static void Train(INetwork net, float[] inputs, int[] labels, int batch)
    {
        StepResult r = net.TrainStep(inputs.AsSpan(batch * Batch * 784, Batch * 784), labels.AsSpan(batch * Batch, Batch), 0.01f);
        if (!r.IsFinite) throw new InvalidOperationException($"{net.Name} diverged (loss {r.LossSum}); its speed would not be representative.");
    }

    /// <summary>Images/s of <paramref name="step"/> (one batch of 256 from the batch index it is given,
    /// cycling over the batches held), after the warm-up: a fixed number of steps, or as many as fit
    /// in the time.</summary>
    private static double Time(Settings s, Action<int> step)
    {
        int batches = 4;
        for (int i = 0; i < s.Warmup; i++) step(i % batches);
        var clock = Stopwatch.StartNew();
        int done = 0;
        while (s.Steps > 0 ? done < s.Steps : done == 0 || clock.Elapsed.TotalSeconds < s.Seconds) step(done++ % batches);
        return done * Batch / clock.Elapsed.TotalSeconds;
    }

    /// <summary>This program again, with AVX-512 switched off for the JIT, for one round.</summary>
    private static List<Result> Relaunched(Settings s)
    {
        string host = Environment.ProcessPath ?? throw new InvalidOperationException("the path of this process is unknown");
        var start = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet") start.ArgumentList.Add(typeof(Suite).Assembly.Location);
        string[] args =
        [
            "suite", "--child", "--networks", string.Join(',', s.Networks), "--threads", string.Join(',', s.Threads),
            "--seconds", s.Seconds.ToString("R", CultureInfo.InvariantCulture), "--warmup", $"{s.Warmup}", "--peak-iterations", $"{s.PeakIterations}",
            .. s.Steps > 0 ? ["--steps", $"{s.Steps}"] : Array.Empty<string>(),
        ];
        foreach (string a in args) start.ArgumentList.Add(a);
        start.Environment["DOTNET_EnableAVX512"] = "0";
        using var child = Process.Start(start) ?? throw new InvalidOperationException($"could not start {host}");
        var error = child.StandardError.ReadToEndAsync();
        string output = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        if (child.ExitCode != 0) throw new InvalidOperationException($"the DOTNET_EnableAVX512=0 run failed ({child.ExitCode}):\n{output}{error.Result}");
        return output.Split('\n').Where(l => l.StartsWith(ResultTag + "\t", StringComparison.Ordinal)).Select(l =>
        {
            string[] f = l.TrimEnd('\r').Split('\t');
            return new Result(f[1], f[2], int.Parse(f[3], CultureInfo.InvariantCulture), Enum.Parse<SimdPath>(f[4]), double.Parse(f[5], CultureInfo.InvariantCulture),
                long.Parse(f[6], CultureInfo.InvariantCulture), double.Parse(f[7], CultureInfo.InvariantCulture));
        }).ToList();
    }

    /// <summary>One row per network, pass and thread count, one group of three columns per SIMD path
    /// (widest first), then the ceilings.</summary>
    private static string Table(Settings s, List<Result> results)
    {
        SimdPath[] paths = results.Select(r => r.Simd).Distinct().OrderByDescending(p => (int)p).ToArray();
        var text = new System.Text.StringBuilder();
        var header = new List<string> { "network", "pass", "threads", "MFLOP/image" };
        foreach (SimdPath p in paths) header.AddRange([$"{Isa(p)} images/s", $"{Isa(p)} GFLOP/s", $"{Isa(p)} % of ceiling"]);
        text.AppendLine("| " + string.Join(" | ", header) + " |");
        text.AppendLine("|" + string.Concat(header.Select((_, i) => i < 2 ? "---|" : "---:|")));
        foreach (string network in s.Networks)
            foreach (string pass in new[] { "training step", "inference" })
                foreach (int threads in s.Threads)
                {
                    var row = results.Where(r => r.Network == network && r.Pass == pass && r.Threads == threads).ToList();
                    var cells = new List<string> { network, pass, threads.ToString(CultureInfo.InvariantCulture), (row[0].FlopsPerImage / 1e6).ToString("F3", CultureInfo.InvariantCulture) };
                    foreach (SimdPath p in paths)
                    {
                        var at = row.Where(r => r.Simd == p).ToList();
                        cells.AddRange([Range(at.Select(r => r.ImagesPerSecond), "N0"), Range(at.Select(r => r.Gflops), "F1"), Range(at.Select(r => 100 * r.Share), "F0")]);
                    }
                    text.AppendLine("| " + string.Join(" | ", cells) + " |");
                }
        foreach (int threads in s.Threads)
        {
            var cells = new List<string> { "FMA ceiling (`peak`)", "", threads.ToString(CultureInfo.InvariantCulture), "" };
            foreach (SimdPath p in paths)
                cells.AddRange(["", Range(results.Where(r => r.Simd == p && r.Threads == threads).GroupBy(r => r.Ceiling).Select(g => g.Key), "F1"), "100"]);
            text.AppendLine("| " + string.Join(" | ", cells) + " |");
        }
        return text.ToString();
    }

    private static string Isa(SimdPath p) => p switch { SimdPath.Vector512 => "AVX-512", SimdPath.Vector256 => "AVX2", _ => p.ToString() };

    private static string Range(IEnumerable<double> values, string format)
    {
        var v = values.ToList();
        string lo = v.Min().ToString(format, CultureInfo.InvariantCulture), hi = v.Max().ToString(format, CultureInfo.InvariantCulture);
        return lo == hi ? lo : $"{lo}–{hi}";
    }

    private static Settings Parse(string[] args)
    {
        var s = new Settings(SuiteNetworks.All.Select(n => n.Name).ToArray(), [1, 2], 1, 2.0, 0, 3, 100_000_000, true, false);
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new FormatException($"{args[i]} needs a value");
            int Count(string option, int min)
            {
                string v = Value();
                return int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= min ? n
                    : throw new FormatException($"{option} must be a whole number of at least {min}, not '{v}'");
            }
            switch (args[i])
            {
                case "--networks":
                    string[] names = Value().Split(',');
                    string? unknown = names.FirstOrDefault(n => !SuiteNetworks.All.Any(a => a.Name == n));
                    s = unknown is null ? s with { Networks = names }
                        : throw new FormatException($"no network '{unknown}' in the suite (it has {string.Join(", ", SuiteNetworks.All.Select(n => n.Name))})");
                    break;
                case "--threads":
                    string list = Value();
                    int[] threads = list.Split(',').Select(t => int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= 1 && n <= Environment.ProcessorCount ? n : 0).ToArray();
                    s = threads.All(t => t > 0) ? s with { Threads = threads }
                        : throw new FormatException($"--threads takes thread counts from 1 to the {Environment.ProcessorCount} processors, separated by commas, not '{list}'");
                    break;
                case "--rounds": s = s with { Rounds = Count("--rounds", 1) }; break;
                case "--steps": s = s with { Steps = Count("--steps", 1) }; break;
                case "--warmup": s = s with { Warmup = Count("--warmup", 0) }; break;
                case "--seconds":
                    string sec = Value();
                    s = double.TryParse(sec, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && d > 0 && d <= 3600 ? s with { Seconds = d }
                        : throw new FormatException($"--seconds must be a number of seconds above 0, not '{sec}'");
                    break;
                case "--peak-iterations": s = s with { PeakIterations = Count("--peak-iterations", 1) }; break;
                case "--this-isa-only": s = s with { BothIsas = false }; break;
                case "--child": s = s with { Child = true }; break;
                default: throw new FormatException($"unknown option '{args[i]}'");
            }
        }
        return s;
    }

    private static string CpuModel()
    {
        try
        {
            string? line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            if (line is not null) return line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString();
    }

    private static string LoadAverage()
    {
        try { return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "unknown"; }
        catch (UnauthorizedAccessException) { return "unknown"; }
    }
}
