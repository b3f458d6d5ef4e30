using System;

namespace GraphGen.Checkpoints;

/// <summary>
/// A checkpoint file is missing, unreadable, malformed, or does not fit the network it is loaded into.
/// The message names the file and the first problem found.
/// </summary>
public sealed class CheckpointException : Exception
{
    /// <summary>Creates the exception; the message reads "<paramref name="path"/>: <paramref name="problem"/>".</summary>
    /// <param name="path">The file at fault (or the name given to an in-memory stream).</param>
    /// <param name="problem">What is wrong with it.</param>
    /// <param name="inner">The low-level exception that revealed the problem, if any.</param>
    public CheckpointException(string path, string problem, Exception? inner = null)
        : base($"{path}: {problem}", inner)
    {
        Path = path;
        Problem = problem;
    }

    /// <summary>The file at fault.</summary>
    public string Path { get; }

    /// <summary>The problem, without the file name.</summary>
    public string Problem { get; }

    /// <summary>True when the problem is that the file holds another network's weights with the same tensors, which
    /// <see cref="Checkpoint.Load(INetwork, string, bool)"/> with allowOtherNetwork accepts (if nothing else is wrong).</summary>
    public bool IsOtherNetwork { get; init; }
}
