using System;
using System.CommandLine;
using System.IO;

namespace GraphGen.Samples;

/// <summary>The commands and options; each action calls into <see cref="Commands"/>.</summary>
internal static class Cli
{
    public static RootCommand Build()
    {
        var dataDir = new Option<string?>("--data-dir") { Description = $"Directory with the four FashionMNIST .gz files (default: $GRAPHGEN_DATA or {Data.FashionMnist.DefaultDirectory})" };
        var threads = new Option<int>("--threads") { Description = "Threads per step", DefaultValueFactory = _ => Environment.ProcessorCount };
        var simd = new Option<SimdPath>("--simd")
        {
            Description = "Vector path: Auto, Vector512, Vector256, Vector128 or Scalar",
            DefaultValueFactory = _ => SimdPath.Auto,
            CustomParser = ParseSimd,
        };

        var epochs = new Option<int>("--epochs") { Description = "Epochs to train", DefaultValueFactory = _ => 10 };
        var batch = new Option<int>("--batch-size") { Description = "Samples per SGD step", DefaultValueFactory = _ => 256 };
        var lr = new Option<float>("--lr") { Description = "Learning rate", DefaultValueFactory = _ => 1.0f };
        var seed = new Option<int>("--seed") { Description = "Seed of the initialization and the shuffles", DefaultValueFactory = _ => 0 };
        var save = new Option<FileInfo?>("--save") { Description = $"Write the safetensors checkpoint here at the end (and every --checkpoint-every epochs) instead of <--out>/{Commands.DefaultCheckpoint}" };
        var noSave = new Option<bool>("--no-save") { Description = "Write no checkpoint" };
        var init = new Option<FileInfo?>("--init") { Description = "Start from the weights of this checkpoint" };
        var resume = new Option<FileInfo?>("--resume") { Description = "Continue the run saved in this checkpoint, exactly as if it had not stopped" };
        var every = new Option<int>("--checkpoint-every") { Description = "Also save the checkpoint every N epochs", DefaultValueFactory = _ => 0 };
        var noShuffle = new Option<bool>("--no-shuffle") { Description = "Keep the data set order in every epoch" };
        var limit = new Option<int>("--limit") { Description = "Train on the first N images only (0: all)", DefaultValueFactory = _ => 0 };
        var output = new Option<DirectoryInfo>("--out") { Description = $"Directory for epochs.csv, curves.png, confusion.csv and (without --save) the checkpoint {Commands.DefaultCheckpoint}", DefaultValueFactory = _ => new DirectoryInfo("out") };
        var noInstall = new Option<bool>("--no-install") { Description = "Do not install the data set when it is missing" };
        var allowOther = new Option<bool>("--allow-other-network") { Description = "With --init: start from the weights of another network with the same tensors (e.g. a ReLU LeNet's)" };

        // Optimization (issue 10): optimizer, schedule, validation, early stopping, precise batch-norm statistics.
        var optimizer = new Option<string>("--optimizer") { Description = "sgd, nesterov, adam or adamw", DefaultValueFactory = _ => "sgd" };
        optimizer.AcceptOnlyFromAmong("sgd", "nesterov", "adam", "adamw");
        var momentum = new Option<float?>("--momentum") { Description = "Momentum of sgd (default 0) and nesterov (default 0.9)" };
        var decay = new Option<float?>("--weight-decay") { Description = "Weight decay, not on biases and batch-norm parameters (default 0; adamw: 0.01, decoupled)" };
        var schedule = new Option<string>("--schedule") { Description = "Learning rate per step: constant, step (x0.1 every 3 epochs), cosine or onecycle (--lr is the peak)", DefaultValueFactory = _ => "constant" };
        schedule.AcceptOnlyFromAmong("constant", "step", "cosine", "onecycle");
        var warmup = new Option<double>("--warmup") { Description = "Epochs of linear learning-rate warmup (fractions allowed)", DefaultValueFactory = _ => 0 };
        var valSplit = new Option<double>("--val-split") { Description = "Fraction of the training images held out (by --seed) for validation", DefaultValueFactory = _ => 0 };
        var earlyStop = new Option<int>("--early-stop") { Description = "Stop after N epochs without a better validation accuracy (needs --val-split)", DefaultValueFactory = _ => 0 };
        var augment = new Option<string?>("--augment")
        {
            Description = $"Augment the training images: crop=N (random crop of the image padded with N zeros, N 1..{Commands.MaxCropPadding}) and/or flip (random horizontal flip), " +
                $"comma-separated; alone: {Commands.DefaultAugmentation}. Drawn from the seed, the epoch and the image's index",
            Arity = ArgumentArity.ZeroOrOne,
            HelpName = "crop=N,flip",
        };
        var preciseBn = new Option<int>("--precise-bn") { Description = "After each epoch, recompute the batch-norm statistics over N training batches (0: moving averages)", DefaultValueFactory = _ => 0 };

        var train = new Command("train", "Train LeNet-BN on FashionMNIST and report loss, train and test accuracy per epoch")
        {
            epochs, batch, lr, seed, dataDir, threads, simd, save, init, resume, every, noShuffle, limit, output, noInstall, allowOther,
            optimizer, momentum, decay, schedule, warmup, valSplit, earlyStop, preciseBn, augment, noSave,
        };
        train.SetAction(r => Commands.Train(new TrainSettings(
            r.GetValue(epochs), r.GetValue(batch), r.GetValue(lr), r.GetValue(seed), r.GetValue(dataDir), r.GetValue(threads), r.GetValue(simd),
            r.GetValue(save), r.GetValue(init), r.GetValue(resume), r.GetValue(every), !r.GetValue(noShuffle), r.GetValue(limit),
            r.GetValue(output)!, !r.GetValue(noInstall), r.GetValue(allowOther))
        {
            Optimization = new OptimizationSettings(r.GetValue(optimizer)!, r.GetValue(momentum), r.GetValue(decay), r.GetValue(schedule)!,
                r.GetValue(warmup), r.GetValue(valSplit), r.GetValue(earlyStop), r.GetValue(preciseBn)),
            // Bare --augment means the default crops and flips; absent, none.
            Augment = r.GetResult(augment) is { Implicit: false } given ? (given.Tokens.Count == 0 ? Commands.DefaultAugmentation : given.Tokens[0].Value) : null,
            NoSave = r.GetValue(noSave),
        }));

        var checkpoint = new Option<FileInfo>("--checkpoint") { Description = $"A checkpoint written by 'lenet train' (by default out/{Commands.DefaultCheckpoint})", Required = true };
        var eval = new Command("eval", "Test accuracy and confusion matrix of a saved network (inference mode)") { checkpoint, dataDir, threads, simd, noInstall };
        eval.SetAction(r => Commands.Evaluate(r.GetValue(checkpoint)!, r.GetValue(dataDir), r.GetValue(threads), r.GetValue(simd), !r.GetValue(noInstall)));

        var index = new Option<int?>("--index") { Description = "Classify this image of the test set" };
        var image = new Option<FileInfo?>("--image") { Description = "Classify this 28x28 image, light object on a dark background: PNG (8-bit grey-scale, RGB or palette; colour is taken as luminance) or binary PGM (P5)" };
        var predict = new Command("predict", "Classify one image: class name and probabilities") { checkpoint, index, image, dataDir, noInstall };
        predict.Validators.Add(r =>
        {
            if (r.GetValue(index) is null == (r.GetValue(image) is null)) r.AddError("predict needs exactly one of --index or --image");
        });
        predict.SetAction(r => Commands.Predict(r.GetValue(checkpoint)!, r.GetValue(index), r.GetValue(image), r.GetValue(dataDir), !r.GetValue(noInstall)));

        var summary = new Command("summary", "The layers and their output shapes for a batch of 256");
        summary.SetAction(_ => Commands.Summary());

        var check = new Command("check", "Show the SIMD path this machine runs and verify it against the scalar path on one training step");
        check.SetAction(_ => Commands.Check());

        return new RootCommand("GraphGen's LeNet with batch normalization, compiled from attributes to SIMD C#")
        {
            train, eval, predict, summary, check,
        };
    }

    /// <summary>Only the names: the default enum parser also takes any number ("--simd 7"), which no path has.</summary>
    private static SimdPath ParseSimd(System.CommandLine.Parsing.ArgumentResult result)
    {
        string text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
        foreach (SimdPath path in Enum.GetValues<SimdPath>())
        {
            if (string.Equals(path.ToString(), text, StringComparison.OrdinalIgnoreCase)) return path;
        }
        result.AddError($"--simd must be one of {string.Join(", ", Enum.GetNames<SimdPath>())} (got '{text}')");
        return SimdPath.Auto;
    }
}

internal sealed record TrainSettings(
    int Epochs, int BatchSize, float LearningRate, int Seed, string? DataDir, int Threads, SimdPath Simd,
    FileInfo? Save, FileInfo? Init, FileInfo? Resume, int CheckpointEvery, bool Shuffle, int Limit,
    DirectoryInfo Output, bool Install, bool AllowOtherNetwork = false)
{
    /// <summary>Optimizer, schedule, validation and batch-norm options; the defaults are the plain SGD run.</summary>
    public OptimizationSettings Optimization { get; init; } = new("sgd", null, null, "constant", 0, 0, 0, 0);

    /// <summary>The --augment list ("crop=2,flip"), or null for none.</summary>
    public string? Augment { get; init; }

    /// <summary>--no-save: write no checkpoint (otherwise <see cref="Save"/>, or <see cref="Commands.DefaultCheckpoint"/> in <see cref="Output"/>).</summary>
    public bool NoSave { get; init; }
}

internal sealed record OptimizationSettings(
    string Optimizer, float? Momentum, float? WeightDecay, string Schedule, double Warmup, double ValSplit, int EarlyStop, int PreciseBatchNorm);
