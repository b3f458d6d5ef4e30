using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using GraphGen.Checkpoints;
using GraphGen.Tests.Data;
using Xunit;

namespace GraphGen.Tests.Cli;

/// <summary>lenet train's optimization options: --optimizer, --momentum, --weight-decay, --schedule,
/// --warmup, --val-split, --early-stop, --precise-bn.</summary>
[Collection(ConsoleCollection.Name)]
public class LenetOptimizationCliTests
{
    private const string DataDir = "/usr/share/datasets/fashion-mnist";
    private static readonly string[] Common = { "--limit", "512", "--batch-size", "128", "--threads", "1", "--data-dir", DataDir, "--no-install" };

    private sealed record Run(int Code, string Out, string Err)
    {
        public override string ToString() => $"exit {Code}\n--- stdout ---\n{Out}\n--- stderr ---\n{Err}";
    }

    private static Run Lenet(params string[] args)
    {
        TextWriter oldOut = Console.Out, oldErr = Console.Error;
        var stdout = new StringWriter(CultureInfo.InvariantCulture);
        var stderr = new StringWriter(CultureInfo.InvariantCulture);
        Console.SetOut(stdout);
        Console.SetError(stderr);
        try
        {
            return new Run(GraphGen.Samples.Program.Main(args), stdout.ToString(), stderr.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }

    private static Run Train(TempDir dir, params string[] args) =>
        Lenet(new[] { "train", "--out", dir.File("out") }.Concat(args).Concat(Common).ToArray());

    [Theory]
    [InlineData(new[] { "--optimizer", "rmsprop" }, "rmsprop")]
    [InlineData(new[] { "--schedule", "zigzag" }, "zigzag")]
    [InlineData(new[] { "--optimizer", "adam", "--momentum", "0.9" }, "--momentum")]
    [InlineData(new[] { "--momentum", "1" }, "--momentum")]
    [InlineData(new[] { "--weight-decay", "-0.1" }, "--weight-decay")]
    [InlineData(new[] { "--warmup", "5", "--epochs", "2" }, "--warmup")]
    [InlineData(new[] { "--val-split", "1.5" }, "--val-split")]
    [InlineData(new[] { "--early-stop", "2" }, "--val-split")]
    [InlineData(new[] { "--precise-bn", "-1" }, "--precise-bn")]
    public void Bad_values_get_one_usage_error_naming_the_option(string[] args, string mention)
    {
        using var dir = new TempDir();
        Run r = Train(dir, args);
        Assert.True(r.Code == 2, r.ToString());
        string[] lines = r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1 && lines[0].StartsWith("lenet:", StringComparison.Ordinal) && lines[0].Contains(mention, StringComparison.Ordinal), r.ToString());
    }

    [Theory]
    [InlineData("foo", "'foo' is neither")]
    [InlineData("", "'' is neither")]
    [InlineData("crop", "'crop' is neither")]
    [InlineData("crop=0", "crop= takes a padding from 1 to 27 pixels (got '0')")]
    [InlineData("crop=28", "(got '28')")]
    [InlineData("crop=-1", "(got '-1')")]
    [InlineData("crop=x", "(got 'x')")]
    [InlineData("flip,flip", "names flip twice")]
    [InlineData("crop=2,crop=3", "names crop twice")]
    [InlineData("crop=2,,flip", "'' is neither")]
    public void Bad_augment_values_get_one_usage_error(string value, string mention)
    {
        using var dir = new TempDir();
        Run r = Train(dir, "--augment", value);
        Assert.True(r.Code == 2, r.ToString());
        string[] lines = r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1 && lines[0].StartsWith("lenet: --augment", StringComparison.Ordinal) && lines[0].Contains(mention, StringComparison.Ordinal), r.ToString());
        Assert.Equal("", r.Out);
    }

    private static SafetensorsFile Saved(TempDir dir, string name, params string[] args)
    {
        Run r = Train(dir, new[] { "--save", dir.File(name) }.Concat(args).ToArray());
        Assert.True(r.Code == 0, r.ToString());
        return Safetensors.Read(dir.File(name));
    }

    private static void AssertSameTensors(SafetensorsFile a, SafetensorsFile b, string what)
    {
        Assert.Equal(a.Tensors.Select(t => t.Name), b.Tensors.Select(t => t.Name));
        foreach (SafetensorsTensor t in a.Tensors)
            Assert.True(t.Data.AsSpan().SequenceEqual(b.Find(t.Name)!.Data), $"{t.Name} differs: {what}");
    }

    [Fact]
    public void Augment_changes_training_resumes_bit_for_bit_and_refuses_other_settings()
    {
        using var dir = new TempDir();
        SafetensorsFile plain = Saved(dir, "plain.st", "--epochs", "2");
        SafetensorsFile full = Saved(dir, "full.st", "--epochs", "2", "--augment");
        Assert.Equal("crop=2,flip", full.Metadata["graphgen.augment"]);
        Assert.Equal("none", plain.Metadata["graphgen.augment"]);
        SafetensorsTensor w = full.Find("conv1.weight")!;
        Assert.False(w.Data.AsSpan().SequenceEqual(plain.Find("conv1.weight")!.Data), "--augment trained the same weights as no augmentation");

        // Spelled out, the default is the same run.
        Saved(dir, "part.st", "--epochs", "1", "--augment", "flip,crop=2");
        Run rest = Train(dir, "--epochs", "2", "--augment", "crop=2,flip", "--resume", dir.File("part.st"), "--save", dir.File("part.st"));
        Assert.True(rest.Code == 0, rest.ToString());
        Assert.Contains(", augment crop=2,flip", rest.Out);
        AssertSameTensors(full, Safetensors.Read(dir.File("part.st")), "--augment resumed after epoch 1 vs uninterrupted");

        Saved(dir, "one.st", "--epochs", "1", "--augment");
        foreach (var (args, saved, now) in new[]
        {
            (new[] { "--augment", "crop=3,flip" }, "crop=2,flip", "crop=3,flip"),
            (new[] { "--augment", "flip" }, "crop=2,flip", "flip"),
            (Array.Empty<string>(), "crop=2,flip", "none"),
        })
        {
            Run other = Train(dir, new[] { "--epochs", "2", "--resume", dir.File("one.st") }.Concat(args).ToArray());
            Assert.True(other.Code == 2 && other.Err.Contains($"augment = {saved}, this run has {now}", StringComparison.Ordinal), other.ToString());
        }
        Run unaugmented = Train(dir, "--epochs", "2", "--augment", "--resume", dir.File("plain.st"));
        Assert.True(unaugmented.Code == 2 && unaugmented.Err.Contains("augment = none, this run has crop=2,flip", StringComparison.Ordinal), unaugmented.ToString());
    }

    [Fact]
    public void An_adam_run_with_warmup_and_precise_bn_resumes_bit_for_bit()
    {
        using var dir = new TempDir();
        string[] options = { "--optimizer", "adam", "--lr", "0.01", "--weight-decay", "0.0001", "--schedule", "step", "--warmup", "0.5", "--precise-bn", "2" };
        Run full = Train(dir, new[] { "--epochs", "2", "--save", dir.File("full.safetensors") }.Concat(options).ToArray());
        Assert.True(full.Code == 0, full.ToString());
        Assert.Contains("Adam, step schedule, warmup 0.5 epochs, precise BN over 2 batches", full.Out);
        Run first = Train(dir, new[] { "--epochs", "1", "--save", dir.File("part.safetensors") }.Concat(options).ToArray());
        Assert.True(first.Code == 0, first.ToString());
        Run rest = Train(dir, new[] { "--epochs", "2", "--resume", dir.File("part.safetensors"), "--save", dir.File("part.safetensors") }.Concat(options).ToArray());
        Assert.True(rest.Code == 0, rest.ToString());

        SafetensorsFile a = Safetensors.Read(dir.File("full.safetensors")), b = Safetensors.Read(dir.File("part.safetensors"));
        Assert.Contains(a.Tensors, t => t.Name == "optimizer.conv1.weight.exp_avg_sq");
        Assert.Equal(a.Tensors.Select(t => t.Name), b.Tensors.Select(t => t.Name));
        foreach (SafetensorsTensor t in a.Tensors)
            Assert.True(t.Data.AsSpan().SequenceEqual(b.Find(t.Name)!.Data), $"{t.Name} differs between the resumed and the uninterrupted run");

        // Another optimizer, or a cosine run resumed with another length, is not the same run.
        Run wrong = Train(dir, new[] { "--epochs", "3", "--resume", dir.File("part.safetensors"), "--optimizer", "adamw" });
        Assert.True(wrong.Code is 1 or 2 && wrong.Err.Contains("Adam", StringComparison.Ordinal), wrong.ToString());
        Run cosine = Train(dir, "--epochs", "1", "--schedule", "cosine", "--save", dir.File("cos.safetensors"));
        Assert.True(cosine.Code == 0, cosine.ToString());
        Run longer = Train(dir, "--epochs", "3", "--schedule", "cosine", "--resume", dir.File("cos.safetensors"));
        Assert.True(longer.Code == 2 && longer.Err.Contains("schedule_epochs", StringComparison.Ordinal), longer.ToString());
    }

    [Fact]
    public void Validation_split_and_early_stopping_report_validation_accuracy_and_keep_the_best_checkpoint()
    {
        using var dir = new TempDir();
        Run r = Train(dir, "--epochs", "3", "--optimizer", "nesterov", "--lr", "0.1", "--val-split", "0.25", "--early-stop", "2",
            "--save", dir.File("net.safetensors"));
        Assert.True(r.Code == 0, r.ToString());
        Assert.Contains("384 training and 10,000 test images", r.Out);
        Assert.Contains("128 validation images", r.Out);
        Assert.Contains("val acc", r.Out);
        var epochs = Regex.Matches(r.Out, @"^\s*(\d+)\s+\d+\.\d{4}\s+\d\.\d{4}\s+\d\.\d{4}\s+\S+\s+\S+\s+(\d\.\d{4})\s*$", RegexOptions.Multiline);
        Assert.True(epochs.Count == 3, r.ToString());
        double[] val = epochs.Select(m => double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)).ToArray();
        int bestEpoch = Array.IndexOf(val, val.Max()) + 1;
        string best = dir.File("net.best.safetensors");
        Assert.True(File.Exists(best), r.ToString());
        Assert.Equal(bestEpoch.ToString(CultureInfo.InvariantCulture), Safetensors.Read(best).Metadata["graphgen.epoch"]);
        Assert.Contains($"after epoch {bestEpoch}: ", r.Out);
    }

    [Fact]
    public void Resume_compares_the_settings_in_effect_and_reads_a_file_without_optimization_keys_as_plain_sgd()
    {
        using var dir = new TempDir();
        // AdamW's default decay is 0.01: a resume with --weight-decay 0 is another run, though neither says it twice.
        Run adamw = Train(dir, "--epochs", "1", "--optimizer", "adamw", "--lr", "0.01", "--save", dir.File("adamw.safetensors"));
        Assert.True(adamw.Code == 0, adamw.ToString());
        Assert.Equal("0.01", Safetensors.Read(dir.File("adamw.safetensors")).Metadata["graphgen.weight_decay"]);
        Run noDecay = Train(dir, "--epochs", "2", "--optimizer", "adamw", "--lr", "0.01", "--weight-decay", "0", "--resume", dir.File("adamw.safetensors"));
        Assert.True(noDecay.Code == 2 && noDecay.Err.Contains("weight_decay = 0.01, this run has 0", StringComparison.Ordinal), noDecay.ToString());

        // A checkpoint written before the optimization options (no graphgen.optim, .schedule, ...) was plain SGD
        // at a constant rate: it resumes as such, and not with another schedule.
        string old = dir.File("old.safetensors");
        Run plain = Train(dir, "--epochs", "1", "--save", old);
        Assert.True(plain.Code == 0, plain.ToString());
        SafetensorsFile file = Safetensors.Read(old);
        string[] newer = { "optim", "momentum", "weight_decay", "schedule", "warmup", "val_split", "precise_bn", "schedule_epochs", "augment" };
        var metadata = file.Metadata.Where(m => !newer.Contains(m.Key["graphgen.".Length..])).ToDictionary();
        Assert.Equal(file.Metadata.Count - newer.Length, metadata.Count);
        Safetensors.Write(old, file.Tensors.ToList(), metadata);
        Run cosine = Train(dir, "--epochs", "2", "--schedule", "cosine", "--resume", old);
        Assert.True(cosine.Code == 2 && cosine.Err.Contains("schedule = constant, this run has cosine", StringComparison.Ordinal), cosine.ToString());
        Run augmented = Train(dir, "--epochs", "2", "--augment", "--resume", old);
        Assert.True(augmented.Code == 2 && augmented.Err.Contains("augment = none, this run has crop=2,flip", StringComparison.Ordinal), augmented.ToString());
        Run same = Train(dir, "--epochs", "2", "--resume", old, "--save", old);
        Assert.True(same.Code == 0, same.ToString());
        Assert.Equal("2", Safetensors.Read(old).Metadata["graphgen.epoch"]);
    }
}
