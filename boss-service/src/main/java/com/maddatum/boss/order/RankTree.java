package com.maddatum.boss.order;

import java.util.Comparator;
import java.util.SplittableRandom;

/**
 * A sorted set that also answers "how many elements come before this one" in O(log n): a treap whose
 * nodes count their subtrees. The JDK's sorted sets can only count by walking, and the
 * {@link ReadyIndex} must tell a queued job its place without walking the queue.
 *
 * <p>Not thread-safe: its owner locks it. The comparator must be a total order (no two distinct
 * elements compare equal), as the claim order is.
 */
final class RankTree<T> {

    private static final class Node<T> {
        final T key;
        final int priority;
        int size = 1;
        Node<T> left;
        Node<T> right;

        Node(T key, int priority) {
            this.key = key;
            this.priority = priority;
        }
    }

    private final Comparator<? super T> order;
    // Heap priorities only need to be unpredictable to the inputs, not secure.
    private final SplittableRandom random = new SplittableRandom();
    private Node<T> root;

    RankTree(Comparator<? super T> order) {
        this.order = order;
    }

    int size() {
        return size(root);
    }

    boolean isEmpty() {
        return root == null;
    }

    boolean contains(T key) {
        Node<T> node = root;
        while (node != null) {
            int c = order.compare(key, node.key);
            if (c == 0) {
                return true;
            }
            node = c < 0 ? node.left : node.right;
        }
        return false;
    }

    /** Adds {@code key}; false when it is already there. */
    boolean add(T key) {
        int before = size();
        root = insert(root, key);
        return size() != before;
    }

    /** Removes {@code key}; false when it was not there. */
    boolean remove(T key) {
        int before = size();
        root = delete(root, key);
        return size() != before;
    }

    /** How many elements come strictly before {@code key} (which need not be in the set). */
    int rank(T key) {
        int before = 0;
        Node<T> node = root;
        while (node != null) {
            if (order.compare(key, node.key) <= 0) {
                node = node.left;
            } else {
                before += size(node.left) + 1;
                node = node.right;
            }
        }
        return before;
    }

    // Rotations, not split and merge, on the claim path: they allocate nothing but the new node.
    private Node<T> insert(Node<T> node, T key) {
        if (node == null) {
            return new Node<>(key, random.nextInt());
        }
        int c = order.compare(key, node.key);
        if (c < 0) {
            node.left = insert(node.left, key);
            if (node.left.priority > node.priority) {
                node = rotateRight(node);
            }
        } else if (c > 0) {
            node.right = insert(node.right, key);
            if (node.right.priority > node.priority) {
                node = rotateLeft(node);
            }
        }
        return update(node);
    }

    private Node<T> delete(Node<T> node, T key) {
        if (node == null) {
            return null;
        }
        int c = order.compare(key, node.key);
        if (c == 0) {
            return merge(node.left, node.right);
        }
        if (c < 0) {
            node.left = delete(node.left, key);
        } else {
            node.right = delete(node.right, key);
        }
        return update(node);
    }

    private static <T> Node<T> rotateRight(Node<T> node) {
        Node<T> left = node.left;
        node.left = left.right;
        left.right = update(node);
        return left;
    }

    private static <T> Node<T> rotateLeft(Node<T> node) {
        Node<T> right = node.right;
        node.right = right.left;
        right.left = update(node);
        return right;
    }

    /** Joins two treaps where every key of {@code a} comes before every key of {@code b}. */
    private Node<T> merge(Node<T> a, Node<T> b) {
        if (a == null) {
            return b;
        }
        if (b == null) {
            return a;
        }
        if (a.priority > b.priority) {
            a.right = merge(a.right, b);
            return update(a);
        }
        b.left = merge(a, b.left);
        return update(b);
    }

    private static <T> Node<T> update(Node<T> node) {
        node.size = 1 + size(node.left) + size(node.right);
        return node;
    }

    private static int size(Node<?> node) {
        return node == null ? 0 : node.size;
    }
}
