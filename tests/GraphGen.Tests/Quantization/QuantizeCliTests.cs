using System.Globalization;
using System.IO;
using System.Text.RegularExpressions;
using GraphGen.Data;
using GraphGen.Tests.Cli;
using GraphGen.Tests.Data;
using Xunit;

namespace GraphGen.Tests.Quantization;

/// <summary>lenet quantize and lenet eval --int8, in-process.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class QuantizeCliTests
{
    private const string DataDir = "/usr/share/datasets/fashion-mnist";

    private static double Accuracy(string output, string pattern) =>
        double.Parse(Regex.Match(output, pattern + @" ([0-9.]+)").Groups[1].Value, CultureInfo.InvariantCulture);

    [SkippableFact]
    public void Quantize_then_eval_int8_stays_near_the_float_accuracy()
    {
        Skip.IfNot(FashionMnist.IsInstalled(DataDir), "FashionMNIST is not installed");
        using var dir = new TempDir();
        string checkpoint = dir.File("f.safetensors"), int8 = dir.File("q.safetensors"), onnx = dir.File("q.onnx");
        var train = LenetCliTests.Lenet("train", "--epochs", "3", "--limit", "6000", "--save", checkpoint, "--out", dir.Path, "--data-dir", DataDir, "--no-install");
        Assert.True(train.Code == 0, train.ToString());

        var quantize = LenetCliTests.Lenet("quantize", "--checkpoint", checkpoint, "--out", int8, "--calibration", "300", "--onnx", onnx, "--data-dir", DataDir, "--no-install");
        Assert.True(quantize.Code == 0, quantize.ToString());
        Assert.Contains("conv1+batchnorm1+sigmoid1+maxpool1", quantize.Out);
        Assert.True(new FileInfo(onnx).Length > 0);

        var floatEval = LenetCliTests.Lenet("eval", "--checkpoint", checkpoint, "--data-dir", DataDir, "--no-install");
        var int8Eval = LenetCliTests.Lenet("eval", "--int8", "--checkpoint", int8, "--data-dir", DataDir, "--no-install", "--threads", "2");
        Assert.True(floatEval.Code == 0 && int8Eval.Code == 0, floatEval + "\n" + int8Eval);
        double f = Accuracy(floatEval.Out, "test accuracy"), q = Accuracy(int8Eval.Out, "int8 test accuracy");
        Assert.True(f > 0.25, floatEval.Out); // well above chance (0.1) after three short epochs
        Assert.True(q >= f - 0.01, $"int8 {q} against float {f}");
    }

    [Fact]
    public void Int8_eval_of_a_float_checkpoint_and_bad_calibration_count_fail_in_one_line()
    {
        using var dir = new TempDir();
        string path = dir.File("f.safetensors");
        using (var net = new GraphGen.Samples.LeNet(new NetworkOptions())) GraphGen.Checkpoints.Checkpoint.Save(net, path);
        var r = LenetCliTests.Lenet("eval", "--int8", "--checkpoint", path, "--data-dir", DataDir, "--no-install");
        Assert.Equal(1, r.Code);
        Assert.Contains("not a quantized network", Assert.Single(r.ErrLines));

        r = LenetCliTests.Lenet("quantize", "--checkpoint", path, "--out", dir.File("q.safetensors"), "--calibration", "0");
        Assert.Equal(2, r.Code);
        Assert.Contains("--calibration must be at least 1", Assert.Single(r.ErrLines));
    }
}
