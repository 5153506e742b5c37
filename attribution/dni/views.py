from django.http import JsonResponse


def sessions(request):
    return JsonResponse({}, status=501)
