using System;
using System.CommandLine;
using System.IO;
using GraphGen.Checkpoints;
using GraphGen.Data;
using GraphGen.Onnx;
using GraphGen.Quantization;

namespace GraphGen.Samples;

/// <summary>lenet quantize --checkpoint X --out Y: post-training int8 quantization of a trained LeNet-BN,
/// calibrated on the first training images, saved as safetensors (and optionally as a QDQ ONNX model).</summary>
internal static class QuantizeCommand
{
    public const int DefaultCalibration = 500;

    public static void AddTo(RootCommand root)
    {
        var checkpoint = new Option<FileInfo>("--checkpoint") { Description = "A float checkpoint written by 'lenet train'", Required = true };
        var output = new Option<FileInfo>("--out") { Description = "The int8 network's safetensors file to write", Required = true };
        var calibration = new Option<int>("--calibration") { Description = $"Training images the activation ranges are calibrated on (the first N; min/max)", DefaultValueFactory = _ => DefaultCalibration };
        var onnx = new Option<FileInfo?>("--onnx") { Description = "Also write the int8 network as an ONNX model in QDQ form" };
        var dataDir = new Option<string?>("--data-dir") { Description = $"Directory with the FashionMNIST .gz files (default: $GRAPHGEN_DATA or {FashionMnist.DefaultDirectory})" };
        var noInstall = new Option<bool>("--no-install") { Description = "Do not install the data set when it is missing" };
        var command = new Command("quantize", "Quantize a trained network to int8 for inference (per-channel int8 weights, uint8 activations)")
        {
            checkpoint, output, calibration, onnx, dataDir, noInstall,
        };
        command.SetAction(r => Run(r.GetValue(checkpoint)!, r.GetValue(output)!, r.GetValue(calibration), r.GetValue(onnx), r.GetValue(dataDir), !r.GetValue(noInstall)));
        root.Subcommands.Add(command);
    }

    private static int Run(FileInfo checkpoint, FileInfo output, int calibration, FileInfo? onnx, string? dataDir, bool install)
    {
        if (calibration < 1) throw new UsageException($"--calibration must be at least 1 (got {calibration})");
        using var net = new LeNet(new NetworkOptions());
        Checkpoint.Load(net, checkpoint.FullName);
        DataSetup.Ensure(dataDir, install, Console.WriteLine);
        Dataset train = FashionMnist.LoadTrain(dataDir);
        if (calibration > train.Count) throw new UsageException($"--calibration {calibration} is more than the {train.Count:N0} training images");
        using QuantizedNetwork q = Quantizer.Quantize(net, train.Take(calibration).Pixels);
        q.Save(output.FullName);
        Console.Write(q.Summary());
        Console.WriteLine($"{output.FullName}: {new FileInfo(output.FullName).Length:N0} bytes (calibrated on the first {calibration:N0} training images)");
        if (onnx is not null)
        {
            File.WriteAllBytes(onnx.FullName, QdqExporter.Export(q));
            Console.WriteLine($"{onnx.FullName}: ONNX, QDQ form");
        }
        return 0;
    }
}
