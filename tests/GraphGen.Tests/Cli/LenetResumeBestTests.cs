using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using GraphGen.Checkpoints;
using GraphGen.Tests.Guarantees;
using Xunit;
using static GraphGen.Tests.Cli.LenetCliTests;

namespace GraphGen.Tests.Cli;

/// <summary>Issue 10: lenet train --resume with --val-split keeps the best epoch of the run it continues (checkpoint
/// metadata graphgen.best_epoch and graphgen.best_value), so early stopping and the best checkpoint go on as if the run
/// had not stopped.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class LenetResumeBestTests : IDisposable
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private static readonly Regex ValidationLine = new(@"^\s*(\d+)\s+\d+\.\d{4}\s+\d\.\d{4}\s+\d\.\d{4}\s+\S+\s+\S+\s+(\d\.\d{4})\s*$", RegexOptions.Multiline);
    private readonly ScratchDir _dir = new();
    private readonly string _data;

    public LenetResumeBestTests() => _data = SyntheticData.Create(Path.Combine(_dir.Path, "data"));

    public void Dispose() => _dir.Dispose();

    private Run TrainWithValidation(int epochs, string save, params string[] more) => Lenet(new[]
    {
        "train", "--epochs", epochs.ToString(Inv), "--val-split", "0.25", "--batch-size", "64", "--threads", "1", "--data-dir", _data, "--no-install",
        "--out", _dir.File("out"), "--save", save,
    }.Concat(more).ToArray());

    private static void EditMetadata(string path, Action<Dictionary<string, string>> edit)
    {
        SafetensorsFile file = Safetensors.Read(path);
        var meta = new Dictionary<string, string>(file.Metadata);
        edit(meta);
        Safetensors.Write(path, file.Tensors, meta);
    }

    [Fact]
    public void Resume_with_a_validation_split_keeps_the_best_epoch_for_early_stopping_and_the_best_checkpoint()
    {
        string a = _dir.File("a.safetensors"), best = _dir.File("a.best.safetensors");
        Run first = TrainWithValidation(2, a);
        Assert.True(first.Code == 0, first.ToString());
        // The checkpoint records the best epoch so far: the first with the highest validation accuracy.
        var lines = ValidationLine.Matches(first.Out);
        Assert.True(lines.Count == 2, first.ToString());
        double[] val = lines.Select(m => double.Parse(m.Groups[2].Value, Inv)).ToArray();
        int bestEpoch = Array.IndexOf(val, val.Max()) + 1;
        IReadOnlyDictionary<string, string> meta = Safetensors.Read(a).Metadata;
        Assert.Equal(bestEpoch.ToString(Inv), meta["graphgen.best_epoch"]);
        Assert.Equal(val.Max().ToString("F4", Inv), double.Parse(meta["graphgen.best_value"], Inv).ToString("F4", Inv));

        // An unbeatable best in epoch 1: with --early-stop 2 the resumed run stops after epoch 3 (2 and 3 not better),
        // and the best checkpoint is not replaced by a worse epoch. (Before, the count and the best started again.)
        EditMetadata(a, m => { m["graphgen.best_epoch"] = "1"; m["graphgen.best_value"] = "1"; });
        byte[] bestBefore = File.ReadAllBytes(best);
        Run resumed = TrainWithValidation(6, a, "--resume", a, "--early-stop", "2");
        Assert.True(resumed.Code == 0, resumed.ToString());
        Assert.Contains("best validation accuracy so far 1.0000 after epoch 1", resumed.Out);
        Assert.Equal(["3"], ValidationLine.Matches(resumed.Out).Select(m => m.Groups[1].Value));
        Assert.Contains("stopped early: no better validation accuracy in the 2 epochs after epoch 1 (1.0000)", resumed.Out);
        Assert.Equal(bestBefore, File.ReadAllBytes(best));
        meta = Safetensors.Read(a).Metadata;
        Assert.Equal(("3", "1", "1"), (meta["graphgen.epoch"], meta["graphgen.best_epoch"], meta["graphgen.best_value"]));

        // Resuming that run again: its patience has run out, as in an uninterrupted run.
        Run again = TrainWithValidation(6, a, "--resume", a, "--early-stop", "2");
        Assert.True(again.Code == 0, again.ToString());
        Assert.Empty(ValidationLine.Matches(again.Out));
        Assert.Contains("had stopped early", again.Out);
        Assert.Equal("3", Safetensors.Read(a).Metadata["graphgen.epoch"]);
    }

    [Theory]
    [InlineData("9", "1", "graphgen.best_epoch is '9', not an epoch from 1 to the checkpoint's 2")]
    [InlineData("1", "NaN", "graphgen.best_value is 'NaN', not an accuracy from 0 to 1")]
    [InlineData(null, "0.5", "holds graphgen.best_value without graphgen.best_epoch")]
    public void A_damaged_best_epoch_record_is_one_error_naming_the_key(string? epoch, string value, string mention)
    {
        string a = _dir.File("a.safetensors");
        Assert.Equal(0, TrainWithValidation(2, a).Code);
        EditMetadata(a, m =>
        {
            if (epoch is null) m.Remove("graphgen.best_epoch");
            else m["graphgen.best_epoch"] = epoch;
            m["graphgen.best_value"] = value;
        });
        Run r = TrainWithValidation(3, a, "--resume", a);
        Assert.True(r.Code == 1 && r.ErrLines.Length == 1, r.ToString());
        Assert.Contains(mention, r.Err);
        Assert.Empty(ValidationLine.Matches(r.Out));
    }

    [Fact]
    public void A_checkpoint_without_the_best_epoch_resumes_and_says_that_tracking_starts_again()
    {
        string a = _dir.File("a.safetensors");
        Assert.Equal(0, TrainWithValidation(1, a).Code);
        EditMetadata(a, m => { m.Remove("graphgen.best_epoch"); m.Remove("graphgen.best_value"); });
        Run r = TrainWithValidation(2, a, "--resume", a);
        Assert.True(r.Code == 0, r.ToString());
        Assert.Contains("does not record the best validation epoch", r.Out);
        Assert.Equal("2", Safetensors.Read(a).Metadata["graphgen.best_epoch"]);
    }
}
