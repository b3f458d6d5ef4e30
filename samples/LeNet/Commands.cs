using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using GraphGen.Checkpoints;
using System.Runtime.Intrinsics;
using GraphGen.Data;
using GraphGen.Execution;
using GraphGen.Training;
using Spectre.Console;

namespace GraphGen.Samples;

internal static class Commands
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private static void Log(string line) => Console.WriteLine(line);

    private static void Require(bool ok, string message)
    {
        if (!ok) throw new UsageException(message);
    }

    /// <summary>The most epochs a run may have: larger counts are typing mistakes (and overflow epoch arithmetic).</summary>
    public const int MaxEpochs = 1_000_000;

    /// <summary>The most threads a network takes (NetworkOptions refuses more).</summary>
    public const int MaxThreads = 1024;

    public static int Train(TrainSettings s)
    {
        Require(s.Epochs is >= 1 and <= MaxEpochs, $"--epochs must be between 1 and {MaxEpochs} (got {s.Epochs})");
        Require(s.BatchSize is >= 1 and <= 65536, $"--batch-size must be between 1 and 65536 (got {s.BatchSize})");
        Require(float.IsFinite(s.LearningRate) && s.LearningRate > 0, $"--lr must be a positive number (got {s.LearningRate.ToString(Inv)})");
        RequireThreads(s.Threads);
        Require(s.Limit >= 0, $"--limit must not be negative (got {s.Limit})");
        Require(s.CheckpointEvery >= 0, $"--checkpoint-every must not be negative (got {s.CheckpointEvery})");
        if (s.CheckpointEvery > 0 && s.Save is null) throw new UsageException("--checkpoint-every needs --save FILE");
        if (s.Init is not null && s.Resume is not null) throw new UsageException("use either --init (new run from these weights) or --resume (continue that run), not both");
        if (s.AllowOtherNetwork && s.Init is null) throw new UsageException("--allow-other-network applies to --init only (a resumed run must be the same network)");
        RequireDirectory(s.Output);
        DataSetup.Ensure(s.DataDir, s.Install, Log);
        Dataset train = FashionMnist.LoadTrain(s.DataDir);
        Dataset test = FashionMnist.LoadTest(s.DataDir);
        if (s.Limit > 0) train = train.Take(s.Limit);
        string data = Fingerprint(train);

        using var net = new LeNet(new NetworkOptions { Seed = s.Seed, MaxBatch = s.BatchSize, Threads = s.Threads, Simd = s.Simd });
        int first = 1;
        if (s.Init is not null) LoadInit(net, s.Init, s.AllowOtherNetwork);
        if (s.Resume is not null)
        {
            var meta = Checkpoint.Load(net, s.Resume.FullName);
            first = CheckResume(meta, s, net, data) + 1;
        }
        // Everything that can make the final writes fail is tried now, before the work they would lose.
        if (s.Save is not null) Checkpoint.CheckWritable(net, s.Save.FullName);
        Report.CheckWritable(s.Output);
        Log($"LeNet-BN: {net.Layers.Count} layers, {net.Tensors.Where(t => t.Kind == TensorKind.Parameter).Sum(t => t.Length):N0} parameters; " +
            $"{net.Simd} path, {net.Threads} thread(s); {train.Count:N0} training and {test.Count:N0} test images; " +
            $"lr {s.LearningRate.ToString(Inv)}, batch {s.BatchSize}, seed {s.Seed}" + (s.Shuffle ? "" : ", no shuffle"));
        if (first > s.Epochs) { Log($"the checkpoint already holds {first - 1} epochs; nothing to do for --epochs {s.Epochs}"); return 0; }

        var trainer = new Trainer(net, train, test, new TrainOptions
        {
            Epochs = s.Epochs, BatchSize = s.BatchSize, LearningRate = s.LearningRate, Seed = s.Seed, Shuffle = s.Shuffle,
        });
        var results = new List<EpochResult>();
        string? lastGood = null;
        Log($"{"epoch",5} {"loss",8} {"train acc",9} {"test acc",8} {"train s",8} {"images/s",9}");
        try
        {
            for (int epoch = first; epoch <= s.Epochs; epoch++)
            {
                EpochResult r = Progress.RunEpoch(trainer, epoch, s.Epochs);
                results.Add(r);
                Log(string.Create(Inv, $"{r.Epoch,5} {r.Loss,8:F4} {r.TrainAccuracy,9:F4} {r.TestAccuracy,8:F4} {r.TrainTime.TotalSeconds,8:F2} {r.ImagesPerSecond,9:N0}"));
                bool periodic = s.CheckpointEvery > 0 && epoch % s.CheckpointEvery == 0;
                if (s.Save is not null && (periodic || epoch == s.Epochs))
                {
                    if (!TrySave(net, s, epoch, data))
                    {
                        Report.Write(s.Output, results, null, Log);
                        return 1;
                    }
                    lastGood = $"{s.Save.FullName} (after epoch {epoch})";
                }
            }
        }
        catch (DivergenceException e)
        {
            Console.Error.WriteLine($"lenet: {e.Message}");
            Console.Error.WriteLine(lastGood is null
                ? "lenet: no checkpoint was written in this run; nothing was overwritten"
                : $"lenet: the last good checkpoint is {lastGood}; it was not overwritten");
            Report.Write(s.Output, results, null, Log);
            return 1;
        }

        var confusion = new long[net.Classes, net.Classes];
        double accuracy = Trainer.Evaluate(net, test, confusion);
        Report.Write(s.Output, results, confusion, Log);
        Report.PrintConfusion(confusion, accuracy);
        if (s.Save is not null) Log($"checkpoint: {s.Save.FullName}");
        return 0;
    }

    private static void RequireThreads(int threads) =>
        Require(threads is >= 1 and <= MaxThreads, $"--threads must be between 1 and {MaxThreads} (got {threads})");

    private static void RequireDirectory(DirectoryInfo output)
    {
        if (File.Exists(output.FullName)) // anything there that is not a directory
            throw new UsageException($"--out {output.FullName} is a file, not a directory");
    }

    private static void LoadInit(LeNet net, FileInfo init, bool allowOtherNetwork)
    {
        try
        {
            Checkpoint.Load(net, init.FullName, allowOtherNetwork);
        }
        catch (CheckpointException e) when (e.IsOtherNetwork)
        {
            throw new CheckpointException(e.Path, e.Problem.Replace("(allowOtherNetwork)", "(--allow-other-network)", StringComparison.Ordinal), e);
        }
    }

    /// <summary>Saves the checkpoint; when that fails, saves it somewhere else, says where, and returns false.</summary>
    private static bool TrySave(LeNet net, TrainSettings s, int epoch, string data)
    {
        try
        {
            Checkpoint.Save(net, s.Save!.FullName, Metadata(s, epoch, net, data));
            return true;
        }
        catch (InvalidOperationException e)
        {
            // Non-finite weights or statistics that the step did not report (Checkpoint.Save refuses them).
            Console.Error.WriteLine($"lenet: {e.Message}; the network went non-finite in epoch {epoch}, so {s.Save!.FullName} was not overwritten");
            return false;
        }
        catch (IOException e)
        {
            string name = $"lenet-rescue-epoch{epoch}-{Guid.NewGuid().ToString("N")[..8]}.safetensors";
            foreach (string dir in new[] { s.Output.FullName, Path.GetTempPath(), Environment.CurrentDirectory }.Distinct())
            {
                string rescue = Path.Combine(dir, name);
                try
                {
                    Checkpoint.Save(net, rescue, Metadata(s, epoch, net, data));
                    Console.Error.WriteLine($"lenet: {e.Message}; the network after epoch {epoch} was saved to {rescue} instead (resume from it with --resume)");
                    return false;
                }
                catch (IOException) { }
            }
            Console.Error.WriteLine($"lenet: {e.Message}; saving it to {s.Output.FullName}, {Path.GetTempPath()} or the working directory failed too: the network after epoch {epoch} is lost");
            return false;
        }
    }

    private static Dictionary<string, string> Metadata(TrainSettings s, int epoch, INetwork net, string data) => new()
    {
        ["graphgen.epoch"] = epoch.ToString(Inv),
        ["graphgen.seed"] = s.Seed.ToString(Inv),
        ["graphgen.batch_size"] = s.BatchSize.ToString(Inv),
        ["graphgen.lr"] = s.LearningRate.ToString("R", Inv),
        ["graphgen.shuffle"] = s.Shuffle ? "true" : "false",
        ["graphgen.limit"] = s.Limit.ToString(Inv),
        ["graphgen.simd"] = net.Simd.ToString(),
        ["graphgen.data"] = data,
    };

    // Settings that every checkpoint of 'lenet train --save' records; the later two are newer, and an older file's
    // resume is taken on trust for them.
    private static readonly string[] NewerKeys = ["graphgen.simd", "graphgen.data"];

    /// <summary>The training images and labels as a short hash: a resumed run must see the same data.</summary>
    private static string Fingerprint(Dataset train)
    {
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        hash.AppendData(train.Pixels);
        hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(train.Labels));
        return $"{train.Count}:{Convert.ToHexStringLower(hash.GetHashAndReset())[..16]}";
    }

    /// <summary>A resumed run must use the settings of the run it continues, or it would not be the same run.
    /// Returns the checkpoint's epoch.</summary>
    private static int CheckResume(IReadOnlyDictionary<string, string> meta, TrainSettings s, INetwork net, string data)
    {
        string file = s.Resume!.Name;
        if (!meta.TryGetValue("graphgen.epoch", out string? epochText))
            throw new UsageException($"{file} holds no epoch count (graphgen.epoch); it was not written by 'lenet train --save', use --init to start a new run from it");
        if (!int.TryParse(epochText, NumberStyles.None, Inv, out int epoch) || epoch < 1 || epoch > MaxEpochs)
            throw new CheckpointException(s.Resume.FullName, $"graphgen.epoch is '{Clip(epochText)}', not an epoch count between 1 and {MaxEpochs}; the file was damaged or edited (use --init to start a new run from its weights)");
        foreach (var (key, value) in Metadata(s, epoch, net, data))
        {
            if (key == "graphgen.epoch") continue;
            string setting = key["graphgen.".Length..];
            if (!meta.TryGetValue(key, out string? saved))
            {
                if (Array.IndexOf(NewerKeys, key) >= 0) continue;
                throw new UsageException($"{file} does not record its {setting} (graphgen.{setting}), so an exact resume cannot be promised; use --init to start a new run from it");
            }
            if (saved == value) continue;
            throw new UsageException(key switch
            {
                "graphgen.simd" => $"{file} was trained on the {Clip(saved)} SIMD path, this run would use {value} (--simd {s.Simd}); " +
                    $"vector widths round differently, so the result would differ from an uninterrupted run: resume with --simd {Clip(saved)} (or use --init)",
                "graphgen.data" => $"{file} was trained on other data ({Clip(saved)} images:hash), this run has {value}; resume with the same --data-dir and --limit (or use --init)",
                _ => $"{file} was trained with {setting} = {Clip(saved)}, this run has {value}; resume with the same settings (or use --init)",
            });
        }
        return epoch;
    }

    private static string Clip(string text) => text.Length <= 40 ? text : text[..40] + "…";

    public static int Evaluate(FileInfo checkpoint, string? dataDir, int threads, SimdPath simd, bool install)
    {
        RequireThreads(threads);
        using var net = new LeNet(new NetworkOptions { Threads = threads, Simd = simd });
        Checkpoint.Load(net, checkpoint.FullName);
        DataSetup.Ensure(dataDir, install, Log);
        Dataset test = FashionMnist.LoadTest(dataDir);
        if (test.Count == 0) throw new InvalidDataException("the test set holds no images: there is nothing to evaluate");
        var confusion = new long[net.Classes, net.Classes];
        var clock = System.Diagnostics.Stopwatch.StartNew();
        double accuracy = Trainer.Evaluate(net, test, confusion);
        Log(string.Create(Inv, $"{checkpoint.Name}: test accuracy {accuracy:F4} on {test.Count:N0} images ({test.Count / clock.Elapsed.TotalSeconds:N0} images/s, {net.Simd}, {net.Threads} thread(s))"));
        Report.PrintConfusion(confusion, accuracy);
        return 0;
    }

    public static int Predict(FileInfo checkpoint, int? index, FileInfo? image, string? dataDir, bool install)
    {
        using var net = new LeNet(new NetworkOptions { Threads = 1 });
        Checkpoint.Load(net, checkpoint.FullName);
        byte[] pixels;
        string what;
        int? label = null;
        if (index is int i)
        {
            DataSetup.Ensure(dataDir, install, Log);
            Dataset test = FashionMnist.LoadTest(dataDir);
            if (test.Count == 0) throw new InvalidDataException($"the test set holds no images, so there is no image {i}");
            if (i < 0 || i >= test.Count) throw new UsageException($"--index {i} is outside the test set (0..{test.Count - 1})");
            pixels = test.Image(i).ToArray();
            label = test.Labels[i];
            what = $"test image {i}";
        }
        else
        {
            pixels = Pgm.Read(image!.FullName, net.InputShape[1], net.InputShape[2]);
            what = image.Name;
        }
        var logits = new float[net.Classes];
        net.Infer(pixels, logits);
        double max = logits.Max();
        double[] p = logits.Select(z => Math.Exp(z - max)).ToArray();
        double sum = p.Sum();
        int best = Trainer.ArgMax(logits);
        Log($"{what}: {FashionMnist.ClassNames[best]}" + (label is int l ? $" (label: {FashionMnist.ClassNames[l]})" : ""));
        foreach (int c in Enumerable.Range(0, net.Classes).OrderByDescending(c => p[c]))
            Log(string.Create(Inv, $"  {FashionMnist.ClassNames[c],-12} {p[c] / sum,7:P2}"));
        return 0;
    }

    /// <summary>One training step on a fixed synthetic batch with the automatically chosen SIMD path and
    /// with the scalar path: the losses, gradients and inference logits must agree to 1e-4.</summary>
    public static int Check()
    {
        Log($"SIMD path: {NetworkCore.Resolve(SimdPath.Auto)} (accelerated: Vector512 {Vector512.IsHardwareAccelerated}, " +
            $"Vector256 {Vector256.IsHardwareAccelerated}, Vector128 {Vector128.IsHardwareAccelerated}; FMA {System.Runtime.Intrinsics.X86.Fma.IsSupported})");
        var rng = new Random(42);
        var pixels = new byte[37 * 784];
        rng.NextBytes(pixels);
        var labels = Enumerable.Range(0, 37).Select(_ => rng.Next(10)).ToArray();
        double worst = 0;
        using var auto = new LeNet(new NetworkOptions { Seed = 3, Threads = 2, MaxBatch = 64 });
        using var scalar = new LeNet(new NetworkOptions { Seed = 3, Threads = 1, MaxBatch = 64, Simd = SimdPath.Scalar });
        var a = auto.TrainStep(pixels, labels, 0.5f);
        var s = scalar.TrainStep(pixels, labels, 0.5f);
        worst = Math.Max(worst, Math.Abs(a.LossSum - s.LossSum) / Math.Abs(s.LossSum));
        foreach (var t in auto.Tensors)
        {
            ReadOnlySpan<float> x = t.Kind == TensorKind.Parameter ? auto.Gradient(t.Name) : auto.Tensor(t.Name);
            ReadOnlySpan<float> y = t.Kind == TensorKind.Parameter ? scalar.Gradient(t.Name) : scalar.Tensor(t.Name);
            worst = Math.Max(worst, RelativeDifference(x, y));
        }
        var la = new float[37 * 10];
        var ls = new float[37 * 10];
        auto.Infer(pixels, la);
        scalar.Infer(pixels, ls);
        worst = Math.Max(worst, RelativeDifference(la, ls));
        bool ok = worst < 1e-4;
        Log(string.Create(Inv, $"{auto.Simd} vs Scalar on one training step and inference: max relative difference {worst:G3} ({(ok ? "ok" : "MISMATCH")})"));
        return ok ? 0 : 1;
    }

    private static double RelativeDifference(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double diff = 0, norm = 0;
        for (int i = 0; i < a.Length; i++) { diff += (a[i] - b[i]) * (double)(a[i] - b[i]); norm += b[i] * (double)b[i]; }
        return Math.Sqrt(diff) / Math.Max(Math.Sqrt(norm), 1e-2);
    }

    public static int Summary()
    {
        using var net = new LeNet(new NetworkOptions { Threads = 1 });
        Console.Write(net.Summary());
        return 0;
    }
}
