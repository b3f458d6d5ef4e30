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

    /// <summary>The checkpoint's name in the --out directory when --save does not name one.</summary>
    public const string DefaultCheckpoint = "lenet.safetensors";

    /// <summary>What a bare --augment means.</summary>
    public const string DefaultAugmentation = "crop=2,flip";

    /// <summary>The largest crop padding: less than the 28-pixel side, so that a crop keeps part of the image.</summary>
    public const int MaxCropPadding = 27;

    public static int Train(TrainSettings s)
    {
        Require(s.Epochs is >= 1 and <= MaxEpochs, $"--epochs must be between 1 and {MaxEpochs} (got {s.Epochs})");
        Require(s.BatchSize is >= 1 and <= 65536, $"--batch-size must be between 1 and 65536 (got {s.BatchSize})");
        Require(float.IsFinite(s.LearningRate) && s.LearningRate > 0, $"--lr must be a positive number (got {s.LearningRate.ToString(Inv)})");
        RequireThreads(s.Threads);
        Require(s.Limit >= 0, $"--limit must not be negative (got {s.Limit})");
        Require(s.CheckpointEvery >= 0, $"--checkpoint-every must not be negative (got {s.CheckpointEvery})");
        if (s.NoSave && s.Save is not null) throw new UsageException("--save FILE and --no-save contradict each other; give one of them");
        if (s.CheckpointEvery > 0 && s.NoSave) throw new UsageException("--checkpoint-every saves a checkpoint, which --no-save turns off");
        if (!s.NoSave && s.Save is null) s = s with { Save = new FileInfo(Path.Combine(s.Output.FullName, DefaultCheckpoint)) };
        Augmentation? augmentation = ParseAugment(s.Augment);
        if (s.Init is not null && s.Resume is not null) throw new UsageException("use either --init (new run from these weights) or --resume (continue that run), not both");
        if (s.AllowOtherNetwork && s.Init is null) throw new UsageException("--allow-other-network applies to --init only (a resumed run must be the same network)");
        OptimizationSettings o = s.Optimization;
        Optimizer? optimizer = MakeOptimizer(o);
        LearningRateSchedule schedule = MakeSchedule(o, s.Epochs);
        Require(double.IsFinite(o.ValSplit) && o.ValSplit is >= 0 and < 1, $"--val-split must be a fraction in [0, 1) (got {o.ValSplit.ToString(Inv)})");
        Require(o.EarlyStop >= 0, $"--early-stop must not be negative (got {o.EarlyStop})");
        Require(o.EarlyStop == 0 || o.ValSplit > 0, "--early-stop follows the validation accuracy: it needs --val-split");
        Require(o.PreciseBatchNorm >= 0, $"--precise-bn must not be negative (got {o.PreciseBatchNorm})");
        RequireDirectory(s.Output);
        DataSetup.Ensure(s.DataDir, s.Install, Log);
        Dataset train = FashionMnist.LoadTrain(s.DataDir);
        Dataset test = FashionMnist.LoadTest(s.DataDir);
        if (s.Limit > 0) train = train.Take(s.Limit);
        // The images before the split: with --seed and --val-split (both recorded) they determine the split.
        string data = Fingerprint(train);
        Dataset? validation = null;
        if (o.ValSplit > 0) (train, validation) = Split(train, o.ValSplit, s.Seed);

        using var net = new LeNet(new NetworkOptions { Seed = s.Seed, MaxBatch = s.BatchSize, Threads = s.Threads, Simd = s.Simd });
        optimizer?.Attach(net);
        int first = 1;
        // The best validation epoch so far and its accuracy: recorded in every checkpoint, so that a resumed run keeps
        // the early-stopping count and the best checkpoint of the run it continues.
        (int Epoch, double Accuracy) bestSoFar = (0, double.NaN);
        if (s.Init is not null) LoadInit(net, s.Init, s.AllowOtherNetwork);
        if (s.Resume is not null)
        {
            var meta = Checkpoint.Load(net, s.Resume.FullName, optimizer);
            first = CheckResume(meta, s, net, data, optimizer) + 1;
            if (validation is not null) bestSoFar = ResumedBest(meta, s.Resume, first - 1);
        }
        string? best = validation is not null && s.Save is not null ? Path.ChangeExtension(s.Save.FullName, ".best.safetensors") : null;
        // Everything that can make the final writes fail is tried now, before the work they would lose
        // (the --out directory first: it holds the default checkpoint).
        Report.CheckWritable(s.Output);
        if (s.Save is not null) Checkpoint.CheckWritable(net, s.Save.FullName, optimizer);
        if (best is not null) Checkpoint.CheckWritable(net, best, optimizer);
        Log($"LeNet-BN: {net.Layers.Count} layers, {net.Tensors.Where(t => t.Kind == TensorKind.Parameter).Sum(t => t.Length):N0} parameters; " +
            $"{net.Simd} path, {net.Threads} thread(s); {train.Count:N0} training and {test.Count:N0} test images; " +
            $"lr {s.LearningRate.ToString(Inv)}, batch {s.BatchSize}, seed {s.Seed}" + (s.Shuffle ? "" : ", no shuffle") +
            (optimizer is null ? "" : $", {optimizer.Kind}") + (o.Schedule == "constant" ? "" : $", {o.Schedule} schedule") +
            (o.Warmup > 0 ? $", warmup {o.Warmup.ToString(Inv)} epochs" : "") +
            (validation is null ? "" : $", {validation.Count:N0} validation images") +
            (o.PreciseBatchNorm > 0 ? $", precise BN over {o.PreciseBatchNorm} batches" : "") +
            (augmentation is null ? "" : $", augment {Describe(augmentation)}"));
        if (first > s.Epochs) { Log($"the checkpoint already holds {first - 1} epochs; nothing to do for --epochs {s.Epochs}"); return 0; }
        if (s.Resume is not null && validation is not null)
            Log(bestSoFar.Epoch > 0
                ? string.Create(Inv, $"best validation accuracy so far {bestSoFar.Accuracy:F4} after epoch {bestSoFar.Epoch}")
                : $"{s.Resume.Name} does not record the best validation epoch (an older lenet wrote it): early stopping and the best checkpoint start again from epoch {first}");

        var trainer = new Trainer(net, train, test, new TrainOptions
        {
            Epochs = s.Epochs, BatchSize = s.BatchSize, LearningRate = s.LearningRate, Seed = s.Seed, Shuffle = s.Shuffle,
            Schedule = schedule, PreciseBatchNormBatches = o.PreciseBatchNorm, Augmentation = augmentation,
        });
        var results = new List<EpochResult>();
        string? lastGood = null;
        Log($"{"epoch",5} {"loss",8} {"train acc",9} {"test acc",8} {"train s",8} {"images/s",9}" + (validation is null ? "" : $" {"val acc",8}"));
        // A failed save stops the run (TrySave has rescued the network and said where), as does a divergence.
        void Save(string path, EpochResult r, Dictionary<string, string> metadata)
        {
            if (!TrySave(net, path, r.Epoch, metadata, s.Output, optimizer)) throw new SaveFailedException(r);
        }
        // The settings and, with a validation set, the best epoch so far (graphgen.best_epoch, .best_value).
        Dictionary<string, string> Saved(int epoch)
        {
            var metadata = Metadata(s, epoch, net, data, optimizer);
            if (bestSoFar.Epoch > 0)
            {
                metadata[BestEpochKey] = bestSoFar.Epoch.ToString(Inv);
                metadata[BestValueKey] = bestSoFar.Accuracy.ToString("R", Inv);
            }
            return metadata;
        }
        var fit = new FitOptions
        {
            FirstEpoch = first, Patience = o.EarlyStop, PreviousBestEpoch = bestSoFar.Epoch, PreviousBestValue = bestSoFar.Accuracy,
            Improved = validation is null ? null : r =>
            {
                bestSoFar = (r.Epoch, r.ValidationAccuracy);
                if (best is null) return;
                var metadata = Saved(r.Epoch);
                metadata["graphgen.monitor"] = Metric.ValidationAccuracy.ToString();
                metadata["graphgen.monitor_value"] = r.ValidationAccuracy.ToString("R", Inv);
                Save(best, r, metadata);
            },
            EpochEnd = r =>
            {
                results.Add(r);
                Progress.Log(string.Create(Inv, $"{r.Epoch,5} {r.Loss,8:F4} {r.TrainAccuracy,9:F4} {r.TestAccuracy,8:F4} {r.TrainTime.TotalSeconds,8:F2} {r.ImagesPerSecond,9:N0}") +
                    (validation is null ? "" : string.Create(Inv, $" {r.ValidationAccuracy,8:F4}")));
                bool periodic = s.CheckpointEvery > 0 && r.Epoch % s.CheckpointEvery == 0;
                if (s.Save is not null && (periodic || r.Epoch == s.Epochs))
                {
                    Save(s.Save.FullName, r, Saved(r.Epoch));
                    lastGood = $"{s.Save.FullName} (after epoch {r.Epoch})";
                }
            },
        };
        try
        {
            FitResult fitted = Progress.Fit(trainer, validation is null ? null : new DatasetSamples(validation), fit, s.Epochs);
            if (fitted.StoppedEarly && results.Count == 0)
            {
                Log($"the run in {s.Resume!.Name} had stopped early: no better validation accuracy in the {o.EarlyStop} epochs after epoch {fitted.BestEpoch}; nothing to do");
                return 0;
            }
            if (fitted.StoppedEarly)
            {
                Log($"stopped early: no better validation accuracy in the {o.EarlyStop} epochs after epoch {fitted.BestEpoch} ({fitted.BestValue.ToString("F4", Inv)})");
                EpochResult last = results[^1];
                if (s.Save is not null) Save(s.Save.FullName, last, Saved(last.Epoch));
            }
            if (best is not null && fitted.BestEpoch > 0) Log($"best validation accuracy {fitted.BestValue.ToString("F4", Inv)} after epoch {fitted.BestEpoch}: {best}");
        }
        catch (SaveFailedException e)
        {
            if (results.Count == 0 || results[^1].Epoch != e.Result.Epoch) results.Add(e.Result);
            Report.Write(s.Output, results, null, Log);
            return 1;
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
        if (s.Save is not null) Log($"checkpoint: {Report.Shown(s.Save.FullName)}");
        return 0;
    }

    /// <summary>The checkpoint after <see cref="Result"/>'s epoch could not be written; the reason has been printed.</summary>
    private sealed class SaveFailedException(EpochResult epoch) : Exception($"the checkpoint of epoch {epoch.Epoch} was not written")
    {
        public EpochResult Result { get; } = epoch;
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

    /// <summary>Saves the checkpoint (with the optimizer's state) to <paramref name="path"/>; when that fails, saves it
    /// somewhere else, says where, and returns false.</summary>
    private static bool TrySave(LeNet net, string path, int epoch, Dictionary<string, string> metadata, DirectoryInfo output, Optimizer? optimizer)
    {
        try
        {
            Checkpoint.Save(net, path, metadata, optimizer);
            return true;
        }
        catch (InvalidOperationException e)
        {
            // Non-finite weights or statistics that the step did not report (Checkpoint.Save refuses them).
            Console.Error.WriteLine($"lenet: {e.Message}; the network went non-finite in epoch {epoch}, so {path} was not overwritten");
            return false;
        }
        catch (IOException e)
        {
            string name = $"lenet-rescue-epoch{epoch}-{Guid.NewGuid().ToString("N")[..8]}.safetensors";
            foreach (string dir in new[] { output.FullName, Path.GetTempPath(), Environment.CurrentDirectory }.Distinct())
            {
                string rescue = Path.Combine(dir, name);
                try
                {
                    Checkpoint.Save(net, rescue, metadata, optimizer);
                    Console.Error.WriteLine($"lenet: {e.Message}; the network after epoch {epoch} was saved to {rescue} instead (resume from it with --resume)");
                    return false;
                }
                catch (IOException) { }
            }
            Console.Error.WriteLine($"lenet: {e.Message}; saving it to {output.FullName}, {Path.GetTempPath()} or the working directory failed too: the network after epoch {epoch} is lost");
            return false;
        }
    }

    private static Dictionary<string, string> Metadata(TrainSettings s, int epoch, INetwork net, string data, Optimizer? optimizer) => new()
    {
        ["graphgen.epoch"] = epoch.ToString(Inv),
        ["graphgen.seed"] = s.Seed.ToString(Inv),
        ["graphgen.batch_size"] = s.BatchSize.ToString(Inv),
        ["graphgen.lr"] = s.LearningRate.ToString("R", Inv),
        ["graphgen.shuffle"] = s.Shuffle ? "true" : "false",
        ["graphgen.limit"] = s.Limit.ToString(Inv),
        ["graphgen.optim"] = s.Optimization.Optimizer,
        // The values in effect (nesterov's momentum and adamw's decay have defaults of their own).
        ["graphgen.momentum"] = (optimizer is Sgd sgd ? sgd.Momentum : 0f).ToString("R", Inv),
        ["graphgen.weight_decay"] = (optimizer?.WeightDecay ?? 0f).ToString("R", Inv),
        ["graphgen.schedule"] = s.Optimization.Schedule,
        ["graphgen.warmup"] = s.Optimization.Warmup.ToString("R", Inv),
        ["graphgen.val_split"] = s.Optimization.ValSplit.ToString("R", Inv),
        ["graphgen.precise_bn"] = s.Optimization.PreciseBatchNorm.ToString(Inv),
        ["graphgen.augment"] = Describe(ParseAugment(s.Augment)),
        // Cosine and one-cycle rates depend on the length of the run: resume it with the same --epochs.
        ["graphgen.schedule_epochs"] = s.Optimization.Schedule is "cosine" or "onecycle" ? s.Epochs.ToString(Inv) : "any",
        ["graphgen.simd"] = net.Simd.ToString(),
        ["graphgen.data"] = data,
    };

    // Settings that a checkpoint of an older 'lenet train --save' does not record. Such a run was trained before the
    // optimization and augmentation options existed, so with their defaults (plain SGD, constant rate, no split, moving-average
    // statistics); its SIMD path and data (null here) are taken on trust.
    private static readonly Dictionary<string, string?> Unrecorded = new()
    {
        ["graphgen.optim"] = "sgd", ["graphgen.momentum"] = "0", ["graphgen.weight_decay"] = "0", ["graphgen.schedule"] = "constant",
        ["graphgen.warmup"] = "0", ["graphgen.val_split"] = "0", ["graphgen.precise_bn"] = "0", ["graphgen.schedule_epochs"] = "any",
        ["graphgen.augment"] = "none",
        ["graphgen.simd"] = null, ["graphgen.data"] = null,
    };

    /// <summary>The optimizer of the options, or null for plain SGD (no state: checkpoints stay as they were).</summary>
    private static Optimizer? MakeOptimizer(OptimizationSettings o)
    {
        Require(o.Momentum is null || o.Optimizer is "sgd" or "nesterov", $"--momentum applies to sgd and nesterov, not {o.Optimizer}");
        Require(o.Momentum is null or (>= 0 and < 1), $"--momentum must be in [0, 1) (got {o.Momentum?.ToString(Inv)})");
        Require(o.WeightDecay is null || (float.IsFinite(o.WeightDecay.Value) && o.WeightDecay >= 0), $"--weight-decay must be a number >= 0 (got {o.WeightDecay?.ToString(Inv)})");
        float decay = o.WeightDecay ?? 0;
        return o.Optimizer switch
        {
            "sgd" when (o.Momentum ?? 0) == 0 && decay == 0 => null,
            "sgd" => new Sgd { Momentum = o.Momentum ?? 0, WeightDecay = decay },
            "nesterov" => new Sgd { Momentum = o.Momentum ?? 0.9f, Nesterov = true, WeightDecay = decay },
            "adam" => new Adam { WeightDecay = decay },
            _ => o.WeightDecay is null ? new AdamW() : new AdamW { WeightDecay = decay },
        };
    }

    private static LearningRateSchedule MakeSchedule(OptimizationSettings o, int epochs)
    {
        Require(double.IsFinite(o.Warmup) && o.Warmup >= 0 && o.Warmup <= epochs, $"--warmup must be between 0 and --epochs ({epochs}) (got {o.Warmup.ToString(Inv)})");
        return o.Schedule switch
        {
            "step" => new StepSchedule { WarmupEpochs = o.Warmup },
            "cosine" => new CosineSchedule { WarmupEpochs = o.Warmup },
            "onecycle" => new OneCycleSchedule { WarmupEpochs = o.Warmup },
            _ => new ConstantSchedule { WarmupEpochs = o.Warmup },
        };
    }

    /// <summary>The augmentation of an --augment list: crop=N and flip, comma-separated, each at most once; null for none.</summary>
    private static Augmentation? ParseAugment(string? list)
    {
        if (list is null) return null;
        const string Expected = "crop=N and/or flip, comma-separated (e.g. --augment crop=2,flip)";
        int? padding = null;
        bool flip = false;
        foreach (string item in list.Split(','))
        {
            string name = item.Trim();
            if (name == "flip" && !flip) flip = true;
            else if (name.StartsWith("crop=", StringComparison.Ordinal) && padding is null)
            {
                string value = name["crop=".Length..];
                Require(int.TryParse(value, NumberStyles.None, Inv, out int n) && n is >= 1 and <= MaxCropPadding,
                    $"--augment crop= takes a padding from 1 to {MaxCropPadding} pixels (got '{Clip(value)}')");
                padding = n;
            }
            else if (name is "flip" || name.StartsWith("crop=", StringComparison.Ordinal)) throw new UsageException($"--augment names {name.Split('=')[0]} twice (got '{Clip(list)}')");
            else throw new UsageException($"--augment takes {Expected}; '{Clip(name)}' is neither");
        }
        return new Augmentation { CropPadding = padding ?? 0, HorizontalFlip = flip };
    }

    /// <summary>The augmentation as --augment spells it ("crop=2,flip"), "none" for null: recorded in checkpoints.</summary>
    private static string Describe(Augmentation? augmentation) =>
        augmentation is null ? "none" : string.Join(",", new[] { augmentation.CropPadding > 0 ? $"crop={augmentation.CropPadding}" : null, augmentation.HorizontalFlip ? "flip" : null }.OfType<string>());

    /// <summary>Holds out round(fraction × count) images chosen by <paramref name="seed"/> (<see cref="Dataset.Split"/>).</summary>
    private static (Dataset Train, Dataset Validation) Split(Dataset data, double fraction, int seed)
    {
        int held = (int)Math.Round(data.Count * fraction, MidpointRounding.AwayFromZero);
        Require(held >= 1 && held < data.Count, $"--val-split {fraction.ToString(Inv)} of {data.Count} images leaves {held} for validation and {data.Count - held} for training; both need at least one");
        return data.Split(fraction, seed);
    }

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
    private static int CheckResume(IReadOnlyDictionary<string, string> meta, TrainSettings s, INetwork net, string data, Optimizer? optimizer)
    {
        string file = s.Resume!.Name;
        if (!meta.TryGetValue("graphgen.epoch", out string? epochText))
            throw new UsageException($"{file} holds no epoch count (graphgen.epoch); it was not written by 'lenet train --save', use --init to start a new run from it");
        if (!int.TryParse(epochText, NumberStyles.None, Inv, out int epoch) || epoch < 1 || epoch > MaxEpochs)
            throw new CheckpointException(s.Resume.FullName, $"graphgen.epoch is '{Clip(epochText)}', not an epoch count between 1 and {MaxEpochs}; the file was damaged or edited (use --init to start a new run from its weights)");
        foreach (var (key, value) in Metadata(s, epoch, net, data, optimizer))
        {
            if (key == "graphgen.epoch") continue;
            string setting = key["graphgen.".Length..];
            if (!meta.TryGetValue(key, out string? saved))
            {
                if (!Unrecorded.TryGetValue(key, out saved))
                    throw new UsageException($"{file} does not record its {setting} (graphgen.{setting}), so an exact resume cannot be promised; use --init to start a new run from it");
                if (saved is null) continue;
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

    private const string BestEpochKey = "graphgen.best_epoch", BestValueKey = "graphgen.best_value";

    /// <summary>The best validation epoch and accuracy up to the checkpoint's <paramref name="epoch"/>, as its metadata records them;
    /// (0, NaN) when it does not (a checkpoint of an older lenet).</summary>
    private static (int Epoch, double Accuracy) ResumedBest(IReadOnlyDictionary<string, string> meta, FileInfo file, int epoch)
    {
        bool hasEpoch = meta.TryGetValue(BestEpochKey, out string? epochText), hasValue = meta.TryGetValue(BestValueKey, out string? valueText);
        if (!hasEpoch && !hasValue) return (0, double.NaN);
        if (!hasEpoch || !hasValue)
            throw new CheckpointException(file.FullName, $"holds {(hasEpoch ? BestEpochKey : BestValueKey)} without {(hasEpoch ? BestValueKey : BestEpochKey)}; the file was damaged or edited (use --init to start a new run from its weights)");
        if (!int.TryParse(epochText, NumberStyles.None, Inv, out int best) || best < 1 || best > epoch)
            throw new CheckpointException(file.FullName, $"{BestEpochKey} is '{Clip(epochText!)}', not an epoch from 1 to the checkpoint's {epoch}; the file was damaged or edited (use --init to start a new run from its weights)");
        if (!double.TryParse(valueText, NumberStyles.Float, Inv, out double accuracy) || !(accuracy is >= 0 and <= 1))
            throw new CheckpointException(file.FullName, $"{BestValueKey} is '{Clip(valueText!)}', not an accuracy from 0 to 1; the file was damaged or edited (use --init to start a new run from its weights)");
        return (best, accuracy);
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
            pixels = InputImage.Read(image!.FullName, net.InputShape);
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
