using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using GraphGen.Checkpoints;
using GraphGen.Data;
using GraphGen.Tests.Checkpoints;
using GraphGen.Tests.Guarantees;
using Xunit;
using static GraphGen.Tests.Cli.LenetCliTests;

namespace GraphGen.Tests.Cli;

/// <summary>A FashionMNIST-shaped data directory of random images: small, so that a CLI run takes a moment.</summary>
internal static class SyntheticData
{
    public static string Create(string directory, int train = 256, int test = 64, int seed = 1)
    {
        Directory.CreateDirectory(directory);
        Write(Path.Combine(directory, "train-images-idx3-ubyte.gz"), Path.Combine(directory, "train-labels-idx1-ubyte.gz"), Bits.RandomImages(train, seed));
        Write(Path.Combine(directory, "t10k-images-idx3-ubyte.gz"), Path.Combine(directory, "t10k-labels-idx1-ubyte.gz"), Bits.RandomImages(test, seed + 1000));
        return directory;
    }

    private static void Write(string images, string labels, Dataset data)
    {
        Idx.WriteImages(images, data.Pixels, data.Count, data.Rows, data.Columns);
        Idx.WriteLabels(labels, data.Labels.ToArray().Select(l => (byte)l).ToArray());
    }
}

/// <summary>Issue 12, items 3, 4, 5, 7, 8 and 10 through the lenet command line: bad checkpoints, save targets checked
/// before training, exact-resume settings, report files, and one line with the right exit code for each.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class LenetFileTests : IDisposable
{
    private readonly ScratchDir _dir = new();
    private readonly string _data;

    public LenetFileTests() => _data = SyntheticData.Create(Path.Combine(_dir.Path, "data"));

    public void Dispose() => _dir.Dispose();

    private string[] Common(params string[] more) =>
        new[] { "--batch-size", "64", "--threads", "1", "--data-dir", _data, "--no-install", "--out", _dir.File("out") }.Concat(more).ToArray();

    private Run Train(params string[] more) => Lenet(new[] { "train", "--epochs", "1" }.Concat(Common(more)).ToArray());

    /// <summary>Exit 1, one "lenet:" line holding every <paramref name="mentions"/>, and not a step trained.</summary>
    private static void AssertFailsBeforeTraining(Run r, params string[] mentions)
    {
        Assert.True(r.Code == 1, $"expected exit 1\n{r}");
        Assert.True(r.ErrLines.Length == 1 && r.ErrLines[0].StartsWith("lenet: ", StringComparison.Ordinal), $"expected one line on stderr\n{r}");
        foreach (string m in mentions) Assert.True(r.ErrLines[0].Contains(m, StringComparison.Ordinal), $"stderr does not say '{m}'\n{r}");
        Assert.DoesNotContain(".tmp-", r.Err);
        Assert.True(EpochLine.Matches(r.Out).Count == 0, $"it trained before failing\n{r}");
    }

    private string Saved(string name = "a.st", params string[] more)
    {
        string path = _dir.File(name);
        Run r = Train(new[] { "--save", path }.Concat(more).ToArray());
        Assert.True(r.Code == 0 && File.Exists(path), r.ToString());
        return path;
    }

    private static void EditMetadata(string path, Action<Dictionary<string, string>> edit)
    {
        SafetensorsFile file = Safetensors.Read(path);
        var meta = new Dictionary<string, string>(file.Metadata);
        edit(meta);
        Safetensors.Write(path, file.Tensors, meta);
    }

    [Fact]
    public void OutNamingAFile_IsAUsageError()
    {
        File.WriteAllText(_dir.File("taken"), "mine");
        Run r = Lenet("train", "--epochs", "1", "--threads", "1", "--data-dir", _data, "--no-install", "--out", _dir.File("taken"));
        AssertUsageError(r, $"--out {_dir.File("taken")} is a file, not a directory");
        Assert.Equal("mine", File.ReadAllText(_dir.File("taken")));
    }

    [Fact]
    public void SaveIntoAMissingDirectory_FailsBeforeTraining()
    {
        string path = Path.Combine(_dir.Path, "no", "such", "a.st");
        AssertFailsBeforeTraining(Train("--save", path), $"cannot write {path}: the directory {Path.GetDirectoryName(path)} does not exist");
    }

    [Fact]
    public void SaveOntoADirectory_FailsBeforeTraining()
    {
        Directory.CreateDirectory(_dir.File("d"));
        AssertFailsBeforeTraining(Train("--save", _dir.File("d")), $"cannot write {_dir.File("d")}: it is a directory, not a regular file");
        Assert.Empty(Directory.GetFileSystemEntries(_dir.File("d")));
    }

    [SkippableFact]
    public void SaveOntoAFifo_FailsBeforeTraining()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "FIFOs are made with Linux's mkfifo here");
        string fifo = _dir.File("pipe.st");
        AtomicFileTests.MakeFifo(fifo);
        AssertFailsBeforeTraining(Train("--save", fifo), $"cannot write {fifo}: it is a FIFO (named pipe), not a regular file");
        Assert.Equal("a FIFO (named pipe)", AtomicFile.Kind(fifo, followLinks: false));
    }

    [Fact]
    public void SaveNameOverTheLimit_FailsBeforeTraining()
    {
        string path = _dir.File(new string('n', 256));
        AssertFailsBeforeTraining(Train("--save", path), "the file name is 256 bytes long; file systems allow 255");
    }

    [Fact]
    public void SaveNameOf240Bytes_IsSaved()
    {
        string path = Saved(new string('n', 240));
        using var net = new Nets.LeNet(new NetworkOptions { Threads = 1 });
        Assert.Equal("1", Checkpoint.Load(net, path)["graphgen.epoch"]);
    }

    [Fact]
    public void SaveThroughASymbolicLink_KeepsTheLink()
    {
        File.CreateSymbolicLink(_dir.File("link.st"), "real.st");
        Saved("link.st");
        Assert.NotNull(new FileInfo(_dir.File("link.st")).LinkTarget);
        Assert.True(File.Exists(_dir.File("real.st")));
    }

    [Fact]
    public void Reports_AreWholeFilesAndNothingElse()
    {
        Saved(); // --save elsewhere: no checkpoint in --out
        Assert.Equal(["confusion.csv", "curves.png", "epochs.csv"], Directory.GetFileSystemEntries(_dir.File("out")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(2, File.ReadAllLines(_dir.File("out/epochs.csv")).Length);
        Assert.Equal(11, File.ReadAllLines(_dir.File("out/confusion.csv")).Length);
    }

    /// <summary>Without --save the checkpoint goes to --out/lenet.safetensors, where eval and predict read it.</summary>
    [Fact]
    public void WithoutSave_TheCheckpointIsWrittenToOut_AndEvalAndPredictReadIt()
    {
        Run train = Train();
        string path = Path.Combine(_dir.File("out"), "lenet.safetensors");
        Assert.True(train.Code == 0 && File.Exists(path), train.ToString());
        Assert.Equal(["confusion.csv", "curves.png", "epochs.csv", "lenet.safetensors"],
            Directory.GetFileSystemEntries(_dir.File("out")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Contains($"checkpoint: {path}", train.Out);
        Assert.Equal("1", Safetensors.Read(path).Metadata["graphgen.epoch"]);

        string testAccuracy = EpochLine.Match(train.Out).Groups[4].Value;
        Run eval = Lenet("eval", "--checkpoint", path, "--threads", "1", "--data-dir", _data, "--no-install");
        Assert.True(eval.Code == 0, eval.ToString());
        Assert.Contains($"lenet.safetensors: test accuracy {testAccuracy} on 64 images", eval.Out);
        Run predict = Lenet("predict", "--checkpoint", path, "--index", "3", "--data-dir", _data, "--no-install");
        Assert.True(predict.Code == 0 && predict.Out.StartsWith("test image 3: ", StringComparison.Ordinal), predict.ToString());

        // --checkpoint-every saves there too; a second run replaces the file.
        Run again = Lenet(new[] { "train", "--epochs", "2", "--checkpoint-every", "1" }.Concat(Common()).ToArray());
        Assert.True(again.Code == 0, again.ToString());
        Assert.Equal("2", Safetensors.Read(path).Metadata["graphgen.epoch"]);
    }

    [Fact]
    public void NoSave_WritesNoCheckpoint()
    {
        Run r = Train("--no-save");
        Assert.True(r.Code == 0, r.ToString());
        Assert.Equal(["confusion.csv", "curves.png", "epochs.csv"], Directory.GetFileSystemEntries(_dir.File("out")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.DoesNotContain("checkpoint:", r.Out);
        Assert.Empty(Directory.GetFiles(_dir.Path, "*.safetensors", SearchOption.AllDirectories));
    }

    [Theory]
    [InlineData(new[] { "--no-save", "--save", "x.st" }, "--save FILE and --no-save contradict each other")]
    [InlineData(new[] { "--no-save", "--checkpoint-every", "1" }, "--checkpoint-every saves a checkpoint, which --no-save turns off")]
    public void NoSave_WithASave_IsAUsageError(string[] args, string mention)
    {
        AssertUsageError(Train(args), mention);
        Assert.False(Directory.Exists(_dir.File("out")));
    }

    /// <summary>The default target is tried before the first step like any --save.</summary>
    [Fact]
    public void DefaultCheckpointOntoADirectory_FailsBeforeTraining()
    {
        string target = Path.Combine(_dir.File("out"), "lenet.safetensors");
        Directory.CreateDirectory(target);
        AssertFailsBeforeTraining(Train(), $"cannot write {target}: it is a directory, not a regular file");
    }

    [Theory]
    [InlineData("2147483647")]
    [InlineData("1000001")]
    [InlineData("-3")]
    [InlineData("0")]
    [InlineData("+1")]
    [InlineData(" 1")]
    [InlineData("1e3")]
    public void ResumeWithAnImpossibleEpoch_IsRefused(string epoch)
    {
        string path = Saved();
        EditMetadata(path, m => m["graphgen.epoch"] = epoch);
        Run r = Lenet(new[] { "train", "--epochs", "3", "--resume", path }.Concat(Common()).ToArray());
        AssertFailsBeforeTraining(r, $"graphgen.epoch is '{epoch}', not an epoch count between 1 and 1000000");
    }

    [Fact]
    public void ResumeOnAnotherSimdPath_IsRefused_TheSamePathResumes()
    {
        string path = Saved("a.st", "--simd", "Vector128");
        Assert.Equal("Vector128", Safetensors.Read(path).Metadata["graphgen.simd"]);
        Run other = Lenet(new[] { "train", "--epochs", "2", "--resume", path, "--simd", "Vector256" }.Concat(Common()).ToArray());
        AssertUsageError(other, "a.st was trained on the Vector128 SIMD path, this run would use Vector256 (--simd Vector256)", "resume with --simd Vector128");

        Run same = Lenet(new[] { "train", "--epochs", "2", "--resume", path, "--simd", "vector128" }.Concat(Common()).ToArray());
        Assert.True(same.Code == 0, same.ToString());
        Assert.Equal("2", EpochLine.Match(same.Out).Groups[1].Value);
    }

    [Fact]
    public void ResumeOnOtherData_IsRefused()
    {
        string path = Saved();
        string other = SyntheticData.Create(_dir.File("data2"), seed: 7); // same counts, other images
        Run r = Lenet(new[] { "train", "--epochs", "2", "--resume", path, "--batch-size", "64", "--threads", "1", "--data-dir", other, "--no-install", "--out", _dir.File("out") });
        AssertUsageError(r, "a.st was trained on other data", "resume with the same --data-dir and --limit");
    }

    [Fact]
    public void ResumeOfAFileWithoutItsSettings_IsRefused()
    {
        string path = Saved();
        EditMetadata(path, m => m.Remove("graphgen.seed"));
        Run r = Lenet(new[] { "train", "--epochs", "2", "--resume", path }.Concat(Common()).ToArray());
        AssertUsageError(r, "a.st does not record its seed (graphgen.seed)", "use --init");
    }

    [Fact]
    public void ResumeOfAnOlderFileWithoutSimdAndData_IsTakenOnTrust()
    {
        string path = Saved();
        EditMetadata(path, m => { m.Remove("graphgen.simd"); m.Remove("graphgen.data"); });
        Run r = Lenet(new[] { "train", "--epochs", "2", "--resume", path }.Concat(Common()).ToArray());
        Assert.True(r.Code == 0, r.ToString());
    }

    [Fact]
    public void EvalAndPredictOfANonFiniteCheckpoint_FailWithOneLine()
    {
        string path = Saved();
        SafetensorsFile file = Safetensors.Read(path);
        file.Tensors.Single(t => t.Name == "dense3.weight").Data[5] = float.NaN;
        var meta = new Dictionary<string, string>(file.Metadata) { [Checkpoint.ChecksumKey] = Checkpoint.Checksum(file.Tensors) };
        Safetensors.Write(path, file.Tensors, meta);

        foreach (Run r in new[]
        {
            Lenet("eval", "--checkpoint", path, "--threads", "1", "--data-dir", _data, "--no-install"),
            Lenet("predict", "--checkpoint", path, "--index", "0", "--data-dir", _data, "--no-install"),
        })
        {
            Assert.True(r.Code == 1 && r.ErrLines.Length == 1, r.ToString());
            Assert.Contains($"{path}: tensor 'dense3.weight' holds NaN at index 5", r.Err);
            Assert.Equal("", r.Out);
        }
    }

    [Fact]
    public void AnotherNetworksCheckpoint_IsRefused_InitTakesItWithTheOverride()
    {
        string path = _dir.File("relu.st");
        using (var relu = new ReluLeNet(new NetworkOptions { Threads = 1 })) Checkpoint.Save(relu, path);

        Run predict = Lenet("predict", "--checkpoint", path, "--index", "0", "--data-dir", _data, "--no-install");
        Assert.True(predict.Code == 1 && predict.ErrLines.Length == 1, predict.ToString());
        Assert.Contains("the file holds ReluLeNet, whose layers differ from LeNet's at layer 3 (sigmoid1)", predict.Err);

        AssertFailsBeforeTraining(Train("--init", path), "the file holds ReluLeNet", "(--allow-other-network)");
        Run allowed = Train("--init", path, "--allow-other-network");
        Assert.True(allowed.Code == 0, allowed.ToString());
    }

    [Fact]
    public void EmptyTestSet_IsNamedAsSuch()
    {
        string empty = SyntheticData.Create(_dir.File("empty"), test: 0);
        string path = Saved();
        Run predict = Lenet("predict", "--checkpoint", path, "--index", "0", "--data-dir", empty, "--no-install");
        Assert.True(predict.Code == 1 && predict.ErrLines.Length == 1, predict.ToString());
        Assert.Contains("the test set holds no images, so there is no image 0", predict.Err);
        Run eval = Lenet("eval", "--checkpoint", path, "--threads", "1", "--data-dir", empty, "--no-install");
        Assert.True(eval.Code == 1 && eval.ErrLines.Length == 1, eval.ToString());
        Assert.Contains("the test set holds no images", eval.Err);
    }

    /// <summary>Issue 12, item 2 as far as saving goes: a step that leaves +Inf in the moving variances (the loss stays
    /// finite) must not overwrite the last good checkpoint with them.</summary>
    [Fact]
    public void NonFiniteNetwork_DoesNotOverwriteTheLastGoodCheckpoint()
    {
        string path = Saved();
        byte[] good = File.ReadAllBytes(path);
        Run r = Train("--save", path, "--lr", "1e20");
        Assert.True(r.Code == 1, r.ToString());
        // Stopped either as a divergence (moving statistics count) or at the save; both say so.
        Assert.Matches("nothing was overwritten|was not overwritten", r.Err);
        Assert.Equal(good, File.ReadAllBytes(path));
    }
}
