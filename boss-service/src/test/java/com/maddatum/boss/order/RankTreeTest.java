package com.maddatum.boss.order;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RankTreeTest {

    @Test
    void agreesWithASortedListUnderRandomAddsRemovesAndRanks() {
        for (long seed = 1; seed <= 20; seed++) {
            Random random = new Random(seed);
            RankTree<Integer> tree = new RankTree<>(Comparator.naturalOrder());
            List<Integer> model = new ArrayList<>();
            int range = 10 + random.nextInt(500);
            for (int step = 0; step < 5_000; step++) {
                int key = random.nextInt(range);
                int at = Collections.binarySearch(model, key);
                switch (random.nextInt(4)) {
                    case 0, 1 -> {
                        assertThat(tree.add(key)).as("add %d (seed %d)", key, seed).isEqualTo(at < 0);
                        if (at < 0) {
                            model.add(-at - 1, key);
                        }
                    }
                    case 2 -> {
                        assertThat(tree.remove(key)).as("remove %d (seed %d)", key, seed).isEqualTo(at >= 0);
                        if (at >= 0) {
                            model.remove(at);
                        }
                    }
                    default -> {
                        int before = at >= 0 ? at : -at - 1;
                        assertThat(tree.rank(key)).as("rank %d (seed %d)", key, seed).isEqualTo(before);
                        assertThat(tree.contains(key)).isEqualTo(at >= 0);
                    }
                }
                assertThat(tree.size()).isEqualTo(model.size());
                assertThat(tree.isEmpty()).isEqualTo(model.isEmpty());
            }
            for (int i = 0; i < model.size(); i++) {
                assertThat(tree.rank(model.get(i))).isEqualTo(i);
            }
        }
    }

    @Test
    void ranksFollowTheComparatorNotInsertionOrder() {
        RankTree<String> tree = new RankTree<>(Comparator.reverseOrder());
        for (String s : List.of("b", "d", "a", "c")) {
            tree.add(s);
        }
        assertThat(tree.rank("d")).isZero();
        assertThat(tree.rank("a")).isEqualTo(3);
        assertThat(tree.rank("bb")).isEqualTo(2); // between c and b, not in the set
        tree.remove("c");
        assertThat(tree.rank("a")).isEqualTo(2);
    }

    @Test
    void staysShallowForKeysAddedInOrder() {
        // A plain binary search tree would recurse 200k deep here and overflow the stack.
        RankTree<Integer> tree = new RankTree<>(Comparator.naturalOrder());
        for (int i = 0; i < 200_000; i++) {
            tree.add(i);
        }
        assertThat(tree.rank(150_000)).isEqualTo(150_000);
        for (int i = 0; i < 200_000; i += 2) {
            tree.remove(i);
        }
        assertThat(tree.size()).isEqualTo(100_000);
        assertThat(tree.rank(150_001)).isEqualTo(75_000);
    }
}
