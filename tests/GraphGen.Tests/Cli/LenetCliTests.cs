using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using GraphGen.Data;
using Xunit;

namespace GraphGen.Tests.Cli;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ConsoleCollection
{
    public const string Name = "console (lenet CLI)";
}

/// <summary>The lenet sample's command line, run in-process: exit codes 0 ok / 1 failure / 2 bad command
/// line, one "lenet: ..." line on stderr for every error, and the files a training run leaves.</summary>
[Collection(ConsoleCollection.Name)]
public class LenetCliTests
{
    private const string DataDir = "/usr/share/datasets/fashion-mnist";

    internal sealed record Run(int Code, string Out, string Err)
    {
        public string[] ErrLines => Err.Replace("\r", "").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        public override string ToString() => $"exit {Code}\n--- stdout ---\n{Out}\n--- stderr ---\n{Err}";
    }

    private static readonly object ConsoleLock = new();

    internal static Run Lenet(params string[] args)
    {
        lock (ConsoleLock)
        {
            TextWriter oldOut = Console.Out, oldErr = Console.Error;
            var stdout = new StringWriter(CultureInfo.InvariantCulture);
            var stderr = new StringWriter(CultureInfo.InvariantCulture);
            Console.SetOut(stdout);
            Console.SetError(stderr);
            try
            {
                int code = GraphGen.Samples.Program.Main(args);
                return new Run(code, stdout.ToString(), stderr.ToString());
            }
            catch (Exception e)
            {
                // A process would die here with an unhandled exception (exit 134 on Linux).
                return new Run(-1, stdout.ToString(), stderr + $"[Main threw instead of returning] {e.GetType()}: {e.Message}");
            }
            finally
            {
                Console.SetOut(oldOut);
                Console.SetError(oldErr);
            }
        }
    }

    internal static void AssertUsageError(Run r, params string[] mentions)
    {
        Assert.True(r.Code == 2, $"expected exit 2\n{r}");
        string[] lines = r.ErrLines;
        Assert.True(lines.Length == 1, $"expected one line on stderr\n{r}");
        Assert.StartsWith("lenet:", lines[0]);
        foreach (string m in mentions) Assert.True(lines[0].Contains(m, StringComparison.Ordinal), $"stderr does not mention '{m}'\n{r}");
    }

    [Fact]
    public void HelpListsTheCommands()
    {
        Run r = Lenet("--help");
        Assert.True(r.Code == 0, r.ToString());
        foreach (string command in new[] { "train", "eval", "predict", "summary" })
            Assert.Matches(new Regex($@"(?m)^\s+{command}\b"), r.Out);
        Assert.Equal("", r.Err);
    }

    [Fact]
    public void TrainHelpListsItsOptions()
    {
        Run r = Lenet("train", "--help");
        Assert.True(r.Code == 0, r.ToString());
        foreach (string option in new[] { "--epochs", "--batch-size", "--lr", "--seed", "--save", "--no-save", "--augment", "--resume", "--checkpoint-every", "--limit", "--threads", "--simd" })
            Assert.Contains(option, r.Out);
    }

    [Theory]
    [InlineData(new[] { "train", "--epochz", "3" }, "--epochz")]
    [InlineData(new[] { "train", "--epochs", "abc" }, "abc")]
    [InlineData(new[] { "train", "--lr", "abc" }, "abc")]
    [InlineData(new[] { "train", "--batch-size", "1.5" }, "1.5")]
    [InlineData(new[] { "train", "--threads", "many" }, "many")]
    [InlineData(new[] { "train", "--limit", "x" }, "--limit")]
    [InlineData(new[] { "train", "--seed", "abc" }, "abc")]
    [InlineData(new[] { "train", "--epochs" }, "--epochs")]
    [InlineData(new[] { "train", "--epochs", "0" }, "--epochs")]
    [InlineData(new[] { "train", "--epochs", "-4" }, "--epochs")]
    [InlineData(new[] { "train", "--lr", "-1" }, "--lr")]
    [InlineData(new[] { "train", "--lr", "0" }, "--lr")]
    [InlineData(new[] { "train", "--lr", "NaN" }, "--lr")]
    [InlineData(new[] { "train", "--batch-size", "0" }, "--batch-size")]
    [InlineData(new[] { "train", "--threads", "0" }, "--threads")]
    [InlineData(new[] { "train", "--limit", "-5" }, "--limit")]
    [InlineData(new[] { "train", "--simd", "Vector1024" }, "Vector1024")]
    [InlineData(new[] { "train", "--simd", "7" }, "--simd must be one of Auto, Scalar, Vector128, Vector256, Vector512 (got '7')")]
    [InlineData(new[] { "train", "--simd", "-1" }, "(got '-1')")]
    [InlineData(new[] { "eval", "--checkpoint", "x", "--simd", "128" }, "(got '128')")]
    [InlineData(new[] { "train", "--threads", "1025" }, "--threads must be between 1 and 1024 (got 1025)")]
    [InlineData(new[] { "eval", "--checkpoint", "/nonexistent.safetensors", "--threads", "100000" }, "--threads must be between 1 and 1024 (got 100000)")]
    [InlineData(new[] { "train", "--epochs", "2147483647" }, "--epochs must be between 1 and 1000000")]
    [InlineData(new[] { "train", "--allow-other-network" }, "--allow-other-network applies to --init only")]
    [InlineData(new[] { "frobnicate" }, null)]
    [InlineData(new[] { "eval" }, "--checkpoint")]
    [InlineData(new[] { "predict", "--checkpoint", "/nonexistent.safetensors" }, "--index")]
    [InlineData(new[] { "predict", "--checkpoint", "/nonexistent.safetensors", "--index", "3", "--image", "/x.pgm" }, "--index")]
    public void BadCommandLineExitsTwoWithOneLine(string[] args, string? mention)
    {
        Run r = Lenet(args);
        if (mention is null) AssertUsageError(r);
        else AssertUsageError(r, mention);
        Assert.Equal("", r.Out);
    }

    [Fact]
    public void CheckpointEveryNeedsACheckpoint()
    {
        using var dir = new Guarantees.ScratchDir();
        // Small settings and no install, so that a regression cannot start a long run.
        Run r = Lenet("train", "--checkpoint-every", "2", "--no-save", "--epochs", "1", "--limit", "64", "--batch-size", "64", "--threads", "1",
            "--no-install", "--out", dir.File("out"));
        AssertUsageError(r, "--checkpoint-every", "--no-save");
        Assert.False(Directory.Exists(dir.File("out")));
    }

    [Fact]
    public void InitAndResumeTogetherIsAUsageError()
    {
        using var dir = new Guarantees.ScratchDir();
        Run r = Lenet("train", "--init", dir.File("a.safetensors"), "--resume", dir.File("a.safetensors"), "--epochs", "1", "--limit", "64",
            "--threads", "1", "--no-install", "--out", dir.File("out"));
        AssertUsageError(r, "--init", "--resume");
    }

    [Fact]
    public void SummaryPrintsTheLayersAndShapes()
    {
        Run r = Lenet("summary");
        Assert.True(r.Code == 0, r.ToString());
        Assert.Equal("", r.Err);
        (string Layer, string Shape)[] expected =
        {
            ("conv1", "(N, 6, 24, 24)"), ("batchnorm1", "(N, 6, 24, 24)"), ("sigmoid1", "(N, 6, 24, 24)"), ("maxpool1", "(N, 6, 12, 12)"),
            ("conv2", "(N, 16, 8, 8)"), ("batchnorm2", "(N, 16, 8, 8)"), ("sigmoid2", "(N, 16, 8, 8)"), ("maxpool2", "(N, 16, 4, 4)"),
            ("dense1", "(N, 120)"), ("batchnorm3", "(N, 120)"), ("sigmoid3", "(N, 120)"),
            ("dense2", "(N, 84)"), ("batchnorm4", "(N, 84)"), ("sigmoid4", "(N, 84)"),
            ("dense3", "(N, 10)"),
        };
        string[] lines = r.Out.Replace("\r", "").Split('\n');
        int at = -1;
        foreach (var (layer, shape) in expected)
        {
            int i = Array.FindIndex(lines, at + 1, l => l.StartsWith(layer + " ", StringComparison.Ordinal));
            Assert.True(i > at, $"no line for {layer} after line {at}\n{r.Out}");
            Assert.True(lines[i].Contains(shape, StringComparison.Ordinal), $"{layer}: expected {shape} in '{lines[i]}'");
            at = i;
        }
    }

    [Fact]
    public void EvalOfMissingCheckpointExitsOneNamingTheFile()
    {
        Run r = Lenet("eval", "--checkpoint", "/nonexistent.safetensors", "--threads", "1", "--no-install");
        Assert.True(r.Code == 1, r.ToString());
        string[] lines = r.ErrLines;
        Assert.True(lines.Length == 1 && lines[0].StartsWith("lenet:", StringComparison.Ordinal), r.ToString());
        // The data set is loaded first; where it is missing the message names it instead.
        if (FashionMnist.IsInstalled(null)) Assert.True(lines[0].Contains("/nonexistent.safetensors", StringComparison.Ordinal), r.ToString());
    }

    [Fact]
    public void PredictWithMissingCheckpointExitsOneNamingTheFile()
    {
        Run r = Lenet("predict", "--checkpoint", "/nonexistent.safetensors", "--image", "/nonexistent.pgm");
        Assert.True(r.Code == 1, r.ToString());
        Assert.Single(r.ErrLines);
        Assert.Contains("/nonexistent.safetensors", r.Err);
    }

    internal static readonly Regex EpochLine = new(@"^\s*(\d+)\s+(\d+\.\d{4})\s+(\d\.\d{4})\s+(\d\.\d{4})\s", RegexOptions.Multiline);

    /// <summary>train → checkpoint, epochs.csv, curves.png and one epoch line; eval of its checkpoint →
    /// the same test accuracy; resume → only the next epoch, and the same weights as an uninterrupted
    /// two-epoch run. Only where FashionMNIST is installed (it is in CI).</summary>
    [Fact]
    public void TrainEvalResumeOnFashionMnist()
    {
        if (!Directory.Exists(DataDir) || !FashionMnist.IsInstalled(DataDir)) return; // no data here: nothing to run
        using var dir = new Guarantees.ScratchDir();
        string a = dir.File("a.safetensors"), b = dir.File("b.safetensors");
        string[] common = { "--limit", "512", "--batch-size", "128", "--threads", "1", "--data-dir", DataDir, "--no-install" };

        Run train = Lenet(new[] { "train", "--epochs", "1", "--save", a, "--out", dir.File("out") }.Concat(common).ToArray());
        Assert.True(train.Code == 0, train.ToString());
        Assert.True(File.Exists(a), train.ToString());
        var epochs = EpochLine.Matches(train.Out);
        Assert.True(epochs.Count == 1 && epochs[0].Groups[1].Value == "1", $"expected one epoch line\n{train}");
        string trainAccuracy = epochs[0].Groups[4].Value;
        Match final = Regex.Match(train.Out, @"confusion matrix.*accuracy (\d\.\d{4})");
        Assert.True(final.Success, train.ToString());
        Assert.Equal(trainAccuracy, final.Groups[1].Value);

        string[] csv = File.ReadAllLines(Path.Combine(dir.File("out"), "epochs.csv"));
        Assert.Equal(2, csv.Length);
        Assert.StartsWith("epoch,loss,train_accuracy,test_accuracy", csv[0]);
        Assert.StartsWith("1,", csv[1]);
        Assert.Equal(csv[0].Split(',').Length, csv[1].Split(',').Length);
        double csvAccuracy = double.Parse(csv[1].Split(',')[3], CultureInfo.InvariantCulture);
        Assert.Equal(trainAccuracy, csvAccuracy.ToString("F4", CultureInfo.InvariantCulture));
        byte[] png = File.ReadAllBytes(Path.Combine(dir.File("out"), "curves.png"));
        Assert.True(png.Length > 8 && png.AsSpan(0, 8).SequenceEqual(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }), "curves.png is not a PNG");

        Run eval = Lenet("eval", "--checkpoint", a, "--threads", "1", "--data-dir", DataDir, "--no-install");
        Assert.True(eval.Code == 0, eval.ToString());
        Match m = Regex.Match(eval.Out, @"test accuracy (\d\.\d{4})");
        Assert.True(m.Success, eval.ToString());
        Assert.Equal(trainAccuracy, m.Groups[1].Value);

        Run resume = Lenet(new[] { "train", "--epochs", "2", "--resume", a, "--save", b, "--out", dir.File("out2") }.Concat(common).ToArray());
        Assert.True(resume.Code == 0, resume.ToString());
        var resumedEpochs = EpochLine.Matches(resume.Out);
        Assert.True(resumedEpochs.Count == 1 && resumedEpochs[0].Groups[1].Value == "2", $"expected only epoch 2\n{resume}");
        Assert.True(File.Exists(b));
        string[] csv2 = File.ReadAllLines(Path.Combine(dir.File("out2"), "epochs.csv"));
        Assert.Equal(2, csv2.Length);
        Assert.StartsWith("2,", csv2[1]);

        // The resumed run ends where an uninterrupted one does, bit for bit.
        string c = dir.File("c.safetensors");
        Run straight = Lenet(new[] { "train", "--epochs", "2", "--save", c, "--out", dir.File("out3") }.Concat(common).ToArray());
        Assert.True(straight.Code == 0, straight.ToString());
        using var resumedNet = new GraphGen.Tests.Nets.LeNet(new NetworkOptions { Threads = 1 });
        using var straightNet = new GraphGen.Tests.Nets.LeNet(new NetworkOptions { Threads = 1 });
        Assert.Equal("2", GraphGen.Checkpoints.Checkpoint.Load(resumedNet, b)["graphgen.epoch"]);
        Assert.Equal("2", GraphGen.Checkpoints.Checkpoint.Load(straightNet, c)["graphgen.epoch"]);
        Guarantees.Bits.AssertIdentical(Guarantees.Bits.Snapshot(straightNet), Guarantees.Bits.Snapshot(resumedNet), "lenet train --resume vs an uninterrupted run");
        Assert.Equal(EpochLine.Matches(straight.Out)[1].Value.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[..4],
            resumedEpochs[0].Value.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[..4]);
    }

    /// <summary>A resumed run must have the settings of the run it continues: another --lr is a usage error naming lr.</summary>
    [Fact]
    public void ResumeWithAnotherLearningRateIsAUsageError()
    {
        if (!Directory.Exists(DataDir) || !FashionMnist.IsInstalled(DataDir)) return; // no data here: nothing to run
        using var dir = new Guarantees.ScratchDir();
        string a = dir.File("a.safetensors");
        string[] common = { "--limit", "256", "--batch-size", "128", "--threads", "1", "--data-dir", DataDir, "--no-install" };
        Run train = Lenet(new[] { "train", "--epochs", "1", "--lr", "0.9", "--save", a, "--out", dir.File("out") }.Concat(common).ToArray());
        Assert.True(train.Code == 0 && File.Exists(a), train.ToString());
        byte[] saved = File.ReadAllBytes(a);

        Run otherLr = Lenet(new[] { "train", "--epochs", "2", "--resume", a, "--lr", "0.5", "--save", a, "--out", dir.File("out2") }.Concat(common).ToArray());
        AssertUsageError(otherLr, "lr");
        Assert.Equal(saved, File.ReadAllBytes(a));
        Assert.False(Directory.Exists(dir.File("out2")));
    }
}
