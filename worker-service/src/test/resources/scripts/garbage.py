print('{"status": 200, "jobId": "x"}')
print("all done, no JSON here")
