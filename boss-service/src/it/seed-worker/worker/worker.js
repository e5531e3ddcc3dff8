// Not part of the seed text, which only shows that server.js requires it: the smallest Worker class
// that server.js and python-runner.js use (a mutable `status`, 'bored' or 'busy').
class Worker {
  constructor(status) {
    this.status = status;
  }
}

module.exports = {Worker};
