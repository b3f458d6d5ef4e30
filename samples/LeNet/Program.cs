using System;
using System.CommandLine;
using System.IO;
using System.Linq;
using GraphGen.Checkpoints;
using GraphGen.Data;

namespace GraphGen.Samples;

/// <summary>
/// lenet: trains, evaluates and runs the LeNet-BN network that GraphGen compiled from LeNet.cs.
///   lenet train [options]      train on FashionMNIST (installs the data set if missing)
///   lenet eval --checkpoint F  test accuracy and confusion matrix of a saved network
///   lenet predict ...          one image → class and probabilities
///   lenet summary              layers and output shapes
///   lenet quantize --checkpoint F --out Q   int8 quantization; lenet eval --int8 --checkpoint Q evaluates it
/// Exit codes: 0 ok, 1 failure (bad data, bad checkpoint, divergence), 2 bad command line.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        RootCommand root = Cli.Build();
        QuantizeCommand.AddTo(root);
        EvalInt8Command.AddTo(root);
        ParseResult parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            // One line, whatever the parser says ("Did you mean …" lists come on several lines).
            string message = string.Join("; ", parse.Errors.Select(e => OneLine(e.Message)).Distinct());
            Console.Error.WriteLine($"lenet: {message} (see 'lenet --help')");
            return 2;
        }
        try
        {
            // Our own handler below turns known failures into one line and an exit code.
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is DataFormatException or CheckpointException or UsageException or ArgumentException or IOException or InvalidDataException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"lenet: {OneLine(e.Message)}");
            return e is UsageException ? 2 : 1;
        }
    }

    private static string OneLine(string text) =>
        string.Join(" ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}

/// <summary>A command line that parses but makes no sense (e.g. --checkpoint-every without --save).</summary>
public sealed class UsageException(string message) : Exception(message);
