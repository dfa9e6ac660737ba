namespace Lantern.Gradients.Graph;

/// <summary>Fresh tensor names, numbered in the order they are asked for, so the same model always gets the same names.</summary>
internal sealed class Names(string prefix)
{
    private int next;

    public string Fresh(string hint) => $"{prefix}{next++}_{hint}";
}
